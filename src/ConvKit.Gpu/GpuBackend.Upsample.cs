namespace ConvKit.Backends.Gpu;

public sealed partial class GpuBackend
{
    public override void UpsampleNearest(Storage x, UpsampleGeometry geometry, Storage y) => throw new NotImplementedException("pending");
    public override void UpsampleNearestBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX) => throw new NotImplementedException("pending");
    public override void UpsampleBilinear(Storage x, UpsampleGeometry geometry, Storage y) => throw new NotImplementedException("pending");
    public override void UpsampleBilinearBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX) => throw new NotImplementedException("pending");
}
