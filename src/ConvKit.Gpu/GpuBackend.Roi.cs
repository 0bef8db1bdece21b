namespace ConvKit.Backends.Gpu;

public sealed partial class GpuBackend
{
    public override void RoiPool(Storage x, Storage boxes, RoiGeometry geometry, Storage y, Storage argmax) => throw new NotImplementedException("pending");
    public override void RoiPoolBackward(Storage gradY, Storage boxes, Storage argmax, RoiGeometry geometry, Storage gradX) => throw new NotImplementedException("pending");
    public override void RoiAlign(Storage x, Storage boxes, RoiGeometry geometry, Storage y) => throw new NotImplementedException("pending");
    public override void RoiAlignBackward(Storage gradY, Storage boxes, RoiGeometry geometry, Storage gradX) => throw new NotImplementedException("pending");
}
