import COpenBLAS
import Foundation

/// OpenBLAS, set up once per process before the first product.
///
/// Threads: one. The embedder runs its own threads, each on a share of the batch's sequences
/// with its own buffers, so the element-wise steps run in parallel too (OpenBLAS's threads
/// would split only the products and leave LayerNorm, GELU and softmax serial), the ~150 small
/// attention products per sequence need no thread hand-off each, and concurrent callers do not
/// queue for one shared pool. (Setting OPENBLAS_NUM_THREADS from here would be too late: the
/// library starts its threads when it is loaded; `openblas_set_num_threads(1)` leaves them idle.)
///
/// Kernels: OpenBLAS picks its kernels from the CPU model when loaded, and a release older than
/// the CPU (Debian 12 ships 0.3.21, which predates Emerald Rapids) does not recognise it and
/// falls back to its SSE3 "Prescott" kernels, several times slower. If it did, and the CPU has
/// AVX-512 or AVX2, this selects SkylakeX or Haswell the way `OPENBLAS_CORETYPE` would: through
/// OpenBLAS's own `gotoblas_dynamic_init`, found at run time (only DYNAMIC_ARCH builds have it).
/// An explicit `OPENBLAS_CORETYPE` is always left alone.
enum OpenBLASSetup {
    /// The kernel family in use after setup (OpenBLAS's name for it).
    static let coreName: String = {
        let env = ProcessInfo.processInfo.environment
        if env["OPENBLAS_CORETYPE"] == nil {
            if let cap = env["VECTOR_KERNELS"].flatMap(cappedCore) {
                // The products obey the same cap as the element-wise kernels.
                reselect(cap)
            } else if let target = betterCore(than: currentCoreName, simdLevel: Kernels.level) {
                reselect(target)
            }
        }
        openblas_set_num_threads(1)
        return currentCoreName
    }()

    static var currentCoreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// OpenBLAS's x86 cores without AVX2 kernels, the ones a fallback lands on.
    static let preAVX2Cores: Set<String> = [
        "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn", "dunnington",
        "nehalem", "sandybridge", "opteron", "opteron_sse3", "barcelona", "bobcat", "bulldozer", "piledriver",
        "steamroller", "nano", "athlon", "generic",
    ]

    /// OpenBLAS's core for a `VECTOR_KERNELS` cap below AVX-512: Prescott (SSE3, which every
    /// x86-64 CPU in service has) for `scalar`, Haswell for `avx2`.
    static func cappedCore(_ kernels: String) -> String? {
        #if arch(x86_64)
        switch kernels {
        case "scalar": return "Prescott"
        case "avx2": return Kernels.level >= 1 ? "Haswell" : nil
        default: return nil
        }
        #else
        return nil
        #endif
    }

    static func betterCore(than core: String, simdLevel: Int) -> String? {
        guard preAVX2Cores.contains(core.lowercased()) else { return nil }
        switch simdLevel {
        case 2: return "SkylakeX"
        case 1: return "Haswell"
        default: return nil
        }
    }

    private static func reselect(_ core: String) {
        typealias Hook = @convention(c) () -> Void
        guard let quit = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit"),
              let initialise = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init")
        else { return }
        // Read by gotoblas_dynamic_init; left set so child processes make the same choice.
        setenv("OPENBLAS_CORETYPE", core, 0)
        unsafeBitCast(quit, to: Hook.self)()
        unsafeBitCast(initialise, to: Hook.self)()
    }
}
