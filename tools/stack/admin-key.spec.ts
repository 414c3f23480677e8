import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminKeyBanner, resolveAdminKey } from './admin-key';

describe('resolveAdminKey (the root credential npm start gives the gateway)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-admin-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes CB_ADMIN_KEY through when set, and writes no file', () => {
    const key = 'k'.repeat(40);
    expect(resolveAdminKey({ CB_ADMIN_KEY: ` ${key} ` }, dir)).toEqual({
      key,
      source: 'environment',
    });
    expect(() => statSync(join(dir, 'admin-key'))).toThrow();
    expect(adminKeyBanner({ key, source: 'environment' }).join('\n')).not.toContain(key);
  });

  it('generates one on first start into <dir>/admin-key with mode 0600, then keeps it', () => {
    const data = join(dir, 'nested', 'data');
    const first = resolveAdminKey({}, data);
    expect(first.source).toBe('generated');
    expect(first.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const file = join(data, 'admin-key');
    expect(readFileSync(file, 'utf8')).toBe(`${first.key}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(adminKeyBanner(first).join('\n')).toContain(first.key);

    const again = resolveAdminKey({ CB_ADMIN_KEY: '  ' }, data);
    expect(again).toEqual({ key: first.key, source: 'kept', file });
    // Printed only when generated: later starts name the file.
    expect(adminKeyBanner(again).join('\n')).not.toContain(first.key);
    expect(adminKeyBanner(again).join('\n')).toContain(file);
  });

  it('narrows a kept file readable by others to 0600', () => {
    const file = join(dir, 'admin-key');
    writeFileSync(file, 'x'.repeat(50), { mode: 0o644 });
    expect(resolveAdminKey({}, dir).key).toBe('x'.repeat(50));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a kept file that is too short instead of replacing it', () => {
    writeFileSync(join(dir, 'admin-key'), 'short\n', { mode: 0o600 });
    expect(() => resolveAdminKey({}, dir)).toThrow(/holds no valid root credential/);
    expect(readFileSync(join(dir, 'admin-key'), 'utf8')).toBe('short\n');
  });
});
