// Model answers with raw HTML that carries handlers, in every place Markdown lets HTML in:
// the Node unit test of markdown-html.ts and the page test in Chromium both render them.
export const HOSTILE_MARKDOWN: readonly string[] = [
  '<img src=x onerror="window.__pwned=1">',
  'Inline <img src=x onerror="window.__pwned=1"> in a paragraph',
  '<IMG SRC=x ONERROR=alert(1)> and <svg onload=alert(1)><circle/></svg>',
  '<script>window.__pwned = 1</script>',
  '<div onclick="alert(1)">\nblock html\n</div>',
  '<b onclick="alert(1)">an allowed tag with an attribute</b>',
  '<details open ontoggle="alert(1)"><summary>x</summary>y</details>',
  '<a href="https://example.com" onmouseover="alert(1)">a raw link</a>',
  // After an inline <code>, <kbd> or <pre>, marked passes text through unescaped ("raw block"):
  // `<img/src…` is no tag for marked, but the browser reads one.
  '<code><img/src=x/onerror=alert(1)></code>',
  '<kbd>k</kbd> <pre> <img/src=x/onerror=alert(1)> </pre>',
  '# Heading <img src=x onerror=alert(1)>',
  '- item <img src=x onerror=alert(1)>\n- item 2',
  '> quoted <img src=x onerror=alert(1)>',
  '| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <i onclick=1>y</i> |',
  '[link text <img src=x onerror=alert(1)>](https://example.com)',
  '**bold <img src=x onerror=alert(1)>** _em <span onclick=1>x</span>_',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<style>body{display:none}</style>',
  '<!-- a --!> <img src=x onerror=alert(1)> -->',
  '```js"><img src=x onerror=alert(1)>\ncode\n```',
  '![alt" onerror="alert(1)](x.png "title\\" onerror=\\"alert(1)")',
  // Markdown's own links and images: DOMPurify drops the javascript: URL; no image is fetched (the CSP would block it).
  '[click](javascript:window.__pwned=1) and ![pixel](https://tracker.example/p.png)',
  // Half-streamed: an unterminated tag or comment.
  'Streaming <img src=x onerror="alert(',
  '<!-- not closed yet <img src=x onerror=alert(1)>',
];
