import { stored, fixture } from '../testing/fixtures';
import { CompiledWorkflowCache, compiledWorkflowKey } from './compiled-workflow-cache';

describe('CompiledWorkflowCache', () => {
  const v1 = stored(fixture('order_processing'), 1);
  const v2 = stored(fixture('order_processing'), 2);

  it('compiles a version once per tenant, workflow and version', () => {
    const cache = new CompiledWorkflowCache();
    const first = cache.compile('default', v1);
    expect(cache.compile('default', v1)).toBe(first);
    expect(cache.get('default', v1.id, 1)).toBe(first);
    expect(cache.get('default', v1.id, 2)).toBeUndefined();
    expect(cache.compile('default', v2)).not.toBe(first);
    // Another tenant's workflow of the same id is another entry.
    expect(cache.get('acme', v1.id, 1)).toBeUndefined();
    expect(cache.compile('acme', v1)).not.toBe(first);
    expect(cache.size).toBe(3);
  });

  it('is bounded, evicting the least recently used version', () => {
    const cache = new CompiledWorkflowCache(2);
    const a = cache.compile('a', v1);
    cache.compile('b', v1);
    expect(cache.get('a', v1.id, 1)).toBe(a); // `a` is now the most recently used
    cache.compile('c', v1);
    expect(cache.size).toBe(2);
    expect(cache.get('b', v1.id, 1)).toBeUndefined();
    expect(cache.get('a', v1.id, 1)).toBe(a);
  });

  it('keys by tenant, workflow id and version', () => {
    expect(compiledWorkflowKey('default', 'order', 3)).toBe('default/order@3');
  });
});
