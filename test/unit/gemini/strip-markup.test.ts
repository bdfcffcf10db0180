import { describe, expect, it } from 'vitest';
import { stripMarkup } from '../../../src/gemini/strip-markup.js';

describe('stripMarkup', () => {
  it('keeps the body text of a gateway page: head, scripts, styles and comments dropped', () => {
    const page =
      '<!DOCTYPE html>\n<html><head><title>403 Forbidden</title><style>body{margin:0}</style></head>\n' +
      '<body><!-- ray id 42 --><h1>403 Forbidden</h1>\n<script type="text/javascript">track("x")</script>' +
      '<p>Request&nbsp;blocked &lt;policy&gt; &quot;egress&quot; &#39;7&#39; &amp; logged.</p></body></html>';
    expect(stripMarkup(page)).toBe('403 Forbidden Request blocked <policy> "egress" \'7\' & logged.');
  });

  it('leaves plain text as it is, whitespace collapsed', () => {
    expect(stripMarkup('  Forbidden\n\n by   proxy ')).toBe('Forbidden by proxy');
  });

  it('does not take <header> for <head>', () => {
    expect(stripMarkup('<header>Corp Proxy</header><p>denied</p>')).toBe('Corp Proxy denied');
  });
});
