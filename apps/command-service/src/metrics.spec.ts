import { createCommandMetrics } from './metrics';

it('names the process metrics as every service does (cb_ prefixed)', async () => {
  const text = await createCommandMetrics().registry.metrics();
  expect(text).toMatch(/^cb_process_cpu_user_seconds_total \d/m);
  expect(text).toMatch(/^cb_nodejs_heap_size_used_bytes \d/m);
  expect(text).not.toMatch(/^(process|nodejs)_/m);
  expect(text).not.toContain('cb_command_service_');
});
