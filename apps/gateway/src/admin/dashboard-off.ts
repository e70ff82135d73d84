/**
 * Logged once when ADMIN_USER / ADMIN_PASSWORD are unset, by the process that speaks for the
 * deployment unit: the app when it runs alone, the cluster primary (which never loads Nest) otherwise.
 */
export const DASHBOARD_OFF_MESSAGE =
  'queue dashboard off: ADMIN_USER and ADMIN_PASSWORD are not set, /admin/queues answers 404';
