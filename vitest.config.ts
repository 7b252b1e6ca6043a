// Test runner configuration: node environment, generous timeouts for end-to-end compile tests.
import { defineConfig } from "vitest/config";
export default defineConfig({ test: { environment: "node", testTimeout: 120_000, hookTimeout: 120_000, include: ["test/**/*.test.ts"] } });
