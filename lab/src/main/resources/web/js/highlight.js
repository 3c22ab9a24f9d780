// Highlights the fenced code blocks of a card's answer (<pre><code class="language-xxx">) with highlight.js 11,
// vendored under vendor/highlightjs/ with its LICENSE: the core and the few languages the cards use, loaded on
// first use. A block with no language, or with one not loaded, stays plain text. If the library cannot be loaded
// the code stays plain and readable; nothing else depends on it. highlight.js escapes the code it marks up.

const BASE = '../vendor/highlightjs/';
const LANGUAGES = ['java', 'python', 'bash', 'json', 'yaml'];

let library = null;

function load() {
  library ??= (async () => {
    const hljs = (await import(`${BASE}core.min.js`)).default;
    const modules = await Promise.all(LANGUAGES.map((name) => import(`${BASE}languages/${name}.min.js`)));
    LANGUAGES.forEach((name, i) => hljs.registerLanguage(name, modules[i].default));
    hljs.registerAliases(['py'], { languageName: 'python' });
    hljs.registerAliases(['sh', 'shell', 'console'], { languageName: 'bash' });
    return hljs;
  })();
  return library;
}

/** Highlights every `pre code.language-xxx` under root whose language is loaded. */
export async function highlightCode(root) {
  const blocks = [...root.querySelectorAll('pre code[class*="language-"]')];
  if (blocks.length === 0) {
    return;
  }
  let hljs;
  try {
    hljs = await load();
  } catch (e) {
    console.warn('highlight.js did not load; code stays plain', e);
    return;
  }
  for (const block of blocks) {
    const language = [...block.classList].find((c) => c.startsWith('language-'))?.slice('language-'.length);
    if (language && hljs.getLanguage(language)) {
      hljs.highlightElement(block);
    }
  }
}
