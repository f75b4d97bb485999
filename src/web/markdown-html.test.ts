import { describe, expect, it } from 'vitest';
import { HOSTILE_MARKDOWN } from '../../test/web/hostile-markdown.js';
import { BARE_TAGS, escapeHtmlText, markdownToHtml, neutralizeRawHtml } from './markdown-html.js';

/** The attributes marked itself writes (escaped): nothing else may appear on any tag of the output. */
const MARKED_ATTRIBUTES = new Set(['href', 'title', 'src', 'alt', 'class', 'align', 'start', 'checked', 'disabled', 'type']);

/**
 * Every tag of an output. Model text is escaped, so every `<` left in the output starts a tag
 * marked or the neutralizer wrote: a `<` that starts anything else is a failure too.
 */
function tagsOf(html: string): Array<{ name: string; attributes: string[] }> {
  const tags: Array<{ name: string; attributes: string[] }> = [];
  for (const match of html.matchAll(/<[^>]*>?/g)) {
    const tag = /^<\/?([a-z][a-z0-9]*)((?:\s+[a-z-]+(?:="[^"<>]*")?)*)\s*>$/.exec(match[0]);
    if (!tag) throw new Error(`not a tag marked writes: ${match[0]} in ${html}`);
    const attributes = [...(tag[2] ?? '').matchAll(/([a-z-]+)(?:="[^"]*")?/g)].map((attribute) => attribute[1]!);
    tags.push({ name: tag[1]!, attributes });
  }
  return tags;
}

/** The elements marked writes for Markdown syntax (an <img> only for a data: URL), plus the bare tags kept from raw HTML. */
const MARKED_TAGS = new Set([
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'strong',
  'em',
  'code',
  'pre',
  'ul',
  'ol',
  'li',
  'blockquote',
  'a',
  'hr',
  'br',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'del',
  'input',
]);

function expectNoModelMarkup(html: string): void {
  for (const tag of tagsOf(html)) {
    expect(MARKED_TAGS.has(tag.name) || BARE_TAGS.has(tag.name), `<${tag.name}> in ${html}`).toBe(true);
    for (const attribute of tag.attributes) expect(MARKED_ATTRIBUTES.has(attribute), `<${tag.name} ${attribute}> in ${html}`).toBe(true);
  }
}

describe('markdownToHtml', () => {
  it.each(HOSTILE_MARKDOWN)('leaves no tag or attribute the model wrote: %s', (text) => {
    expectNoModelMarkup(markdownToHtml(text));
  });

  it('shows raw HTML as text, where it was written', () => {
    expect(markdownToHtml('Beta: <img src=x onerror="steal()"> done')).toBe('<p>Beta: &lt;img src=x onerror=&quot;steal()&quot;&gt; done</p>\n');
    expect(markdownToHtml('<script>window.x = 1</script>')).toBe('<p>&lt;script&gt;window.x = 1&lt;/script&gt;</p>\n');
    expect(markdownToHtml('<div onclick="go()">\nhi\n</div>\n\nafter')).toBe('<p>&lt;div onclick=&quot;go()&quot;&gt;\nhi\n&lt;/div&gt;</p>\n<p>after</p>\n');
    expect(markdownToHtml('<code><img/src=x/onerror=go()></code>')).toBe('<p><code>&lt;img/src=x/onerror=go()&gt;</code></p>\n');
  });

  it('keeps the bare formatting tags, written canonically', () => {
    expect(markdownToHtml('Press <kbd>Ctrl</kbd>+<KBD>C</KBD>: H<sub>2</sub>O, x<sup>2</sup>, a<br/>b<br />c</br>')).toBe(
      '<p>Press <kbd>Ctrl</kbd>+<kbd>C</kbd>: H<sub>2</sub>O, x<sup>2</sup>, a<br>b<br>c<br></p>\n',
    );
    expect(markdownToHtml('<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <del>d</del> <ins>i</ins> <mark>m</mark> <em>e</em> <strong>s</strong>')).toBe(
      '<p><b>bold</b> <i>it</i> <u>u</u> <s>s</s> <del>d</del> <ins>i</ins> <mark>m</mark> <em>e</em> <strong>s</strong></p>\n',
    );
    expect(markdownToHtml('<details>\n<summary>More</summary>\n\nBody **bold**\n\n</details>')).toBe(
      '<details>\n<summary>More</summary><p>Body <strong>bold</strong></p>\n</details>',
    );
    for (const tag of BARE_TAGS) expect(tag).toMatch(/^[a-z0-9]+$/);
  });

  it('drops HTML comments, keeps character references and escapes a lone &', () => {
    expect(markdownToHtml('a <!-- hidden note --> b')).toBe('<p>a  b</p>\n');
    expect(markdownToHtml('<!-- block comment -->\n\nx')).toBe('<p>x</p>\n');
    expect(neutralizeRawHtml('&nbsp;&#39;&#x27; & <3 "q"')).toBe('&nbsp;&#39;&#x27; &amp; &lt;3 &quot;q&quot;');
  });

  it('renders Markdown as marked does, its own attributes escaped', () => {
    expect(markdownToHtml('## Title\n\n**bold** and `<b>code</b>`\n\n- one\n- two')).toBe(
      '<h2>Title</h2>\n<p><strong>bold</strong> and <code>&lt;b&gt;code&lt;/b&gt;</code></p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n',
    );
    expect(markdownToHtml('[docs](https://example.com/a?b=1&c=2 "the \\"docs\\"")')).toBe(
      '<p><a href="https://example.com/a?b=1&amp;c=2" title="the &quot;docs&quot;">docs</a></p>\n',
    );
    expect(markdownToHtml('```html\n<img src=x onerror=go()>\n```')).toBe('<pre><code class="language-html">&lt;img src=x onerror=go()&gt;\n</code></pre>\n');
  });

  it('shows only inline data images; any other image URL becomes a link, so an answer fetches nothing', () => {
    expect(markdownToHtml('![a chart](data:image/png;base64,iVBORw0KGgo=)')).toBe('<p><img src="data:image/png;base64,iVBORw0KGgo=" alt="a chart"></p>\n');
    expect(markdownToHtml('![a tracker](https://tracker.example/p.png "T")')).toBe('<p><a href="https://tracker.example/p.png" title="T">a tracker</a></p>\n');
    expect(markdownToHtml('![](diagram.png)')).toBe('<p><a href="diagram.png">diagram.png</a></p>\n');
    const notAnImage = markdownToHtml('![x](data:text/html;base64,PHNjcmlwdD4=)');
    expect(notAnImage).toBe('<p><a href="data:text/html;base64,PHNjcmlwdD4=">x</a></p>\n');
  });
});

describe('escapeHtmlText', () => {
  it('escapes what could start markup or end an attribute', () => {
    expect(escapeHtmlText(`<a href='x' title="y">&`)).toBe('&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;');
  });
});
