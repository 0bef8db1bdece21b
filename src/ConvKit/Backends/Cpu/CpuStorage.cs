namespace ConvKit.Backends.Cpu;

/// <summary>Storage in a managed array: garbage-collected, no native memory to dispose.</summary>
public sealed class CpuStorage(float[] data) : Storage
{
    public float[] Data { get; } = data;
    public override int Length => Data.Length;
    public override IBackend Backend => CpuBackend.Instance;
}
