/* Accessibility corrections to markup that the site's extensions write, checked with
   axe-core by tests/test_browser.py. Loaded on every page (html_js_files in _config.yml). */
document.addEventListener("DOMContentLoaded", () => {
  // myst-nb names every "Show code cell source" toggle "Toggle hidden content" (aria-label),
  // a name that lacks the visible label (WCAG 2.5.3). Without it, the visible text is the name.
  document.querySelectorAll('summary[aria-label="Toggle hidden content"]')
    .forEach((summary) => summary.removeAttribute("aria-label"));
  // docutils gives each bibliography entry role="doc-biblioentry", which DPUB-ARIA 1.1
  // deprecates for listitem, the role that the citation list (role="list") requires.
  document.querySelectorAll('.citation-list > [role="doc-biblioentry"]')
    .forEach((entry) => entry.setAttribute("role", "listitem"));
});
