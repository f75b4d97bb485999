/**
 * Model Markdown → an HTML string in which nothing the model wrote can be a
 * tag with attributes. Raw HTML in the text (marked's `html` tokens, block and
 * inline) is escaped and shown as text, except a few attribute-free tags
 * (<br>, <sub>, <kbd>, <details> …) written back in a canonical form;
 * comments are dropped. Why here and not only in DOMPurify: the browser
 * reports a Content-Security-Policy violation ("Executing inline event handler
 * violates … script-src") as soon as it PARSES an `on…` attribute, even in an
 * inert document such as DOMPurify's, so a sanitizer that removes the
 * attribute afterwards still leaves an error in the reader's console. Markdown
 * syntax only yields attributes marked writes itself, escaped (href, src, alt,
 * title, a code block's language class, a table cell's align).
 * Images load nothing: only `data:image/…` ones are shown as images; any other
 * URL becomes a link to it (the page's CSP would block it, or it would 404).
 * No DOM here, so it runs (and is tested) in Node too.
 */
import { Marked, type Tokens } from 'marked';

/** Raw HTML tags kept as markup when written bare (`<b>`, `</b>`, `<br/>`): none of them can carry an attribute. */
export const BARE_TAGS: ReadonlySet<string> = new Set([
  'b',
  'i',
  'em',
  'strong',
  'u',
  's',
  'del',
  'ins',
  'mark',
  'sub',
  'sup',
  'kbd',
  'code',
  'pre',
  'br',
  'details',
  'summary',
]);

/** A comment (to its end, or the text's end while it still streams), or a tag with nothing but its name. */
const COMMENT_OR_BARE_TAG = /<!--[\s\S]*?(?:-->|$)|<(\/?)([A-Za-z][A-Za-z0-9]*)\s*\/?>/g;

/** Text as HTML text: `<`, `>`, quotes and a lone `&` escaped; character references such as `&nbsp;` stay (they never make markup). */
export function escapeHtmlText(text: string): string {
  return text
    .replace(/&(?!#?\w+;)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Raw HTML from the model as text, except the bare tags of `BARE_TAGS` (re-written canonically) and comments (dropped). */
export function neutralizeRawHtml(html: string): string {
  let output = '';
  let copiedUpTo = 0;
  for (const match of html.matchAll(COMMENT_OR_BARE_TAG)) {
    const [whole, closing, name] = match;
    const tag = name?.toLowerCase();
    let replacement: string;
    if (tag === undefined) replacement = '';
    else if (!BARE_TAGS.has(tag)) continue;
    else replacement = tag === 'br' ? '<br>' : `<${closing ?? ''}${tag}>`;
    output += escapeHtmlText(html.slice(copiedUpTo, match.index)) + replacement;
    copiedUpTo = match.index + whole.length;
  }
  return output + escapeHtmlText(html.slice(copiedUpTo));
}

/** A URL an answer may show as an image: inline data only, so showing the answer never fetches anything. */
function isInlineImage(href: string): boolean {
  return /^data:image\/[a-z0-9.+-]+[;,]/i.test(href.trim());
}

const markdown = new Marked(
  { gfm: true, breaks: false, async: false },
  {
    renderer: {
      html(token: Tokens.HTML | Tokens.Tag): string {
        const html = neutralizeRawHtml(token.text);
        // A block that is all text now (a <div>, a <script>) reads as a paragraph.
        if (token.block && html.trim() !== '' && !html.includes('<')) return `<p>${html.trim()}</p>\n`;
        return html;
      },
      text(token: Tokens.Text | Tokens.Escape): string | false {
        // marked leaves text unescaped after an inline <pre>, <code>, <kbd> or <script> tag ("raw block"):
        // here those tags are themselves text or bare, so their content is escaped like any other.
        if (token.type === 'text' && token.escaped === true && !token.tokens) return escapeHtmlText(token.text);
        return false;
      },
      image(token: Tokens.Image): string | false {
        if (isInlineImage(token.href)) return false;
        const tokens = token.tokens.length > 0 ? token.tokens : [{ type: 'text' as const, raw: token.href, text: token.href }];
        return this.link({ type: 'link', raw: token.raw, href: token.href, title: token.title, text: token.text || token.href, tokens });
      },
    },
  },
);

/** The HTML for a Markdown text, before sanitizing (`renderMarkdown` in markdown.ts sanitizes it for the page). */
export function markdownToHtml(text: string): string {
  return markdown.parse(text, { async: false });
}
