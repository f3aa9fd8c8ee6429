// Types of scripts/install-cuda.mjs for the tests (the script itself is plain JavaScript: it runs in the image build).
export declare const CUDA_BUNDLE: { providerPackage: string; providerVersion: string; onnxruntime: string; cudaMajor: number; cudnnMajor: number };
export declare const MARKER_FILE: string;
export declare function installCuda(options: {
  root: string;
  dryRun?: boolean;
  log?: (line: string) => void;
  /** Writes the npm tarball of `spec` into `destination` and returns its path (default: `npm pack`). */
  fetchPackage?: (spec: string, destination: string) => string;
}): { nodeDir: string; commonDir: string; libDir: string; specs: string[] };
