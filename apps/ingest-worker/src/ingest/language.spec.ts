import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectLanguage, languageFromHint } from './language.js';

describe('detectLanguage', () => {
  it('takes mostly Cyrillic text for Russian', () => {
    assert.equal(detectLanguage('Чтобы восстановить пароль, откройте настройки учётной записи.'), 'russian');
    assert.equal(detectLanguage('Ошибка 404: страница API не найдена, see docs'), 'russian');
  });

  it('takes Latin text full of English function words for English', () => {
    assert.equal(
      detectLanguage('To reset your password, open the settings and choose the security tab.'),
      'english',
    );
  });

  it('indexes other Latin-script languages without stemming', () => {
    assert.equal(
      detectLanguage(
        'Um Ihr Passwort zurückzusetzen, öffnen Sie die Einstellungen und wählen Sie Sicherheit.',
      ),
      'simple',
    );
    assert.equal(
      detectLanguage('Pour réinitialiser votre mot de passe, ouvrez les paramètres du compte.'),
      'simple',
    );
  });

  it('indexes Ukrainian without Russian stemming', () => {
    assert.equal(detectLanguage('Щоб відновити пароль, відкрийте налаштування облікового запису.'), 'simple');
  });

  it('takes a short unaccented Latin snippet for English and text without letters as simple', () => {
    assert.equal(detectLanguage('Password reset'), 'english');
    assert.equal(detectLanguage('12345 -- 678 ...'), 'simple');
    assert.equal(detectLanguage('密码重置说明'), 'simple');
  });

  it('lets a declared language win over the text', () => {
    assert.equal(detectLanguage('Password reset guide for the admin console', 'ru'), 'russian');
    assert.equal(detectLanguage('Восстановление пароля', 'english'), 'english');
    assert.equal(detectLanguage('Восстановление пароля', 'de'), 'russian');
  });
});

describe('languageFromHint', () => {
  it('understands short codes, names and region tags, and ignores anything else', () => {
    assert.equal(languageFromHint('en'), 'english');
    assert.equal(languageFromHint('EN-us'), 'english');
    assert.equal(languageFromHint('English'), 'english');
    assert.equal(languageFromHint('ru_RU'), 'russian');
    assert.equal(languageFromHint('russian'), 'russian');
    assert.equal(languageFromHint('fr'), undefined);
    assert.equal(languageFromHint(42), undefined);
    assert.equal(languageFromHint(undefined), undefined);
  });
});
