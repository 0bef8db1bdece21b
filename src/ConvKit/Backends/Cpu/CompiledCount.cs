namespace ConvKit.Backends.Cpu;

/// <summary>
/// A count known when a kernel is compiled: a kernel generic in it (the GEMM's rows and column vectors,
/// <see cref="GemmKernels"/>; the blocked convolution's positions and output blocks, <see cref="BlockedConv"/>) is compiled
/// once per count, and the JIT drops the registers and operations past it.
/// </summary>
interface ICount { static abstract int Count { get; } }
struct One : ICount { public static int Count => 1; }
struct Two : ICount { public static int Count => 2; }
struct Three : ICount { public static int Count => 3; }
struct Four : ICount { public static int Count => 4; }
struct Five : ICount { public static int Count => 5; }
struct Six : ICount { public static int Count => 6; }
