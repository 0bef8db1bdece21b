namespace ConvKit.Backends;

/// <summary>A flat buffer of float32 values owned by one backend. Tensors share storage for cheap views.</summary>
public abstract class Storage
{
    /// <summary>Number of float32 elements.</summary>
    public abstract int Length { get; }

    /// <summary>The backend whose kernels can read and write this storage.</summary>
    public abstract IBackend Backend { get; }
}
