/**
 * Model output is untrusted. Two lines of defence between it and the page:
 * `markdownToHtml` (markdown-html.ts) renders the Markdown with every piece of
 * raw HTML the model wrote turned into text, so the browser never parses a
 * model-supplied attribute (parsing an `on…` attribute alone is a CSP
 * violation in the console); then DOMPurify sanitizes what marked produced
 * (it removes `javascript:` links, for one). Links open in a new tab without
 * an opener.
 */
import DOMPurify from 'dompurify';
import { markdownToHtml } from './markdown-html.js';

let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
}

/** Sanitized HTML for a Markdown text. */
export function renderMarkdown(text: string): string {
  installHooks();
  return DOMPurify.sanitize(markdownToHtml(text), {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
    FORBID_ATTR: ['style'],
  });
}
