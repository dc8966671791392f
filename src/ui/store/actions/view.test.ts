import { describe, expect, it } from 'vitest';
import { viewFromSearch, viewHref } from './view';

describe('views in the URL', () => {
  it('reads the view from the query, the study when none or an unknown one', () => {
    expect(viewFromSearch('')).toBe('study');
    expect(viewFromSearch('?view=mixer&autoload=0')).toBe('mixer');
    expect(viewFromSearch('?view=nonsense')).toBe('study');
  });
  it('keeps the other parameters and the share link hash', () => {
    const loc = { pathname: '/app/', search: '?autoload=0&view=history', hash: '#r=1.abc' };
    expect(viewHref('measure', loc)).toBe('/app/?autoload=0&view=measure#r=1.abc');
    expect(viewHref('study', loc)).toBe('/app/?autoload=0#r=1.abc');
    expect(viewHref('study', { pathname: '/', search: '?view=tasks', hash: '' })).toBe('/');
  });
});
