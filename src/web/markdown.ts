/**
 * Model output is untrusted: Markdown is rendered by `marked` and the HTML is
 * sanitized by DOMPurify before it reaches the page. Links open in a new tab
 * without an opener; images load only from the page's own origin (the CSP
 * blocks the rest, so an answer cannot ping a tracker).
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const markdown = new Marked({ gfm: true, breaks: false, async: false });

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
  const html = markdown.parse(text, { async: false });
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
    FORBID_ATTR: ['style'],
  });
}
