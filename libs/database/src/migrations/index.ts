import { InitialSchema1764201600000 } from './1764201600000-initial-schema.js';

/** Explicit, ordered list: migration globs break in a relocated build. */
export const MIGRATIONS = [InitialSchema1764201600000];
