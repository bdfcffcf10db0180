import { describe, expect, it } from 'vitest';
import { BunchError } from '../../../src/errors/bunch-error.js';
import { fillExtension } from '../../../src/plan/item-identity.js';
import { compileTemplate, renderTemplate } from '../../../src/spec/render-template.js';

function thrown(run: () => unknown): BunchError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BunchError);
    return error as BunchError;
  }
  throw new Error('expected a throw');
}

describe('templates', () => {
  it('compiles placeholders, with spaces in names and stray closing braces as text', () => {
    const template = compileTemplate('A {{ title }} by {{Body (HTML)}} }} {{title}}');
    expect(template.fields).toEqual(['title', 'Body (HTML)']);
    expect(renderTemplate(template, { title: 'Chair', 'Body (HTML)': '<b>x</b>' })).toBe('A Chair by <b>x</b> }} Chair');
  });

  it('rejects bad syntax with E_JOB_FILE', () => {
    expect(thrown(() => compileTemplate('x {{a')).message).toBe('unclosed "{{" at character 3 of the template');
    expect(thrown(() => compileTemplate('x {{a {{b}}')).message).toBe('unclosed "{{" at character 3 of the template');
    expect(thrown(() => compileTemplate('{{ }}')).code).toBe('E_JOB_FILE');
  });

  it('a missing or blank field is a row error naming the field', () => {
    const missing = thrown(() => renderTemplate('{{title}} {{color}}', { title: 'Chair' }));
    expect(missing.code).toBe('E_CATALOG_ROW');
    expect(missing.location).toEqual({ field: 'color' });
    expect(missing.message).toBe('field `color` is missing but the template uses {{color}}');
    const blank = thrown(() => renderTemplate('{{title}}', { title: '  ' }));
    expect(blank.message).toBe('field `title` is empty but the template uses {{title}}');
  });

  it('does not look fields up on the prototype', () => {
    expect(thrown(() => renderTemplate('{{constructor}}', {})).code).toBe('E_CATALOG_ROW');
  });

  it('fillExtension replaces every {{ext}}', () => {
    expect(fillExtension('a/{{ext}}/b.{{ext}}', 'png')).toBe('a/png/b.png');
    expect(thrown(() => fillExtension('a.{{ext}}', '../x')).code).toBe('E_INTERNAL');
  });
});
