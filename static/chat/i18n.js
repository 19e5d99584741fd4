// The chat page's words in the customer's language: Django's JavaScriptCatalog
// (/chat/jsi18n/, loaded by chat.html before the modules) defines gettext and interpolate;
// without it (a catalog that failed to load) the English text is shown.

export function _(text) {
  return typeof window.gettext === "function" ? window.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (typeof window.ngettext === "function") return window.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// format(_("Chatting with %(name)s"), {name}): values are put in as text, never markup.
export function format(text, values) {
  return String(text).replace(/%\((\w+)\)s/g, (match, key) => (key in values ? String(values[key]) : match));
}

// The page's language (the server chose it: ?locale=, Accept-Language or the brand's).
export const pageLocale = document.documentElement.lang || undefined;
