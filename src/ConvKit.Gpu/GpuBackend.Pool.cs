namespace ConvKit.Backends.Gpu;

public sealed partial class GpuBackend
{
    public override void MaxPool2d(Storage x, Pool2dGeometry geometry, Storage y, Storage argmax) => throw new NotImplementedException("pending");
    public override void MaxPool2dBackward(Storage gradY, Storage argmax, Pool2dGeometry geometry, Storage gradX) => throw new NotImplementedException("pending");
    public override void AvgPool2d(Storage x, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage y) => throw new NotImplementedException("pending");
    public override void AvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage gradX) => throw new NotImplementedException("pending");
}
