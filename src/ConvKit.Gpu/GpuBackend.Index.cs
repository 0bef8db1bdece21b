namespace ConvKit.Backends.Gpu;

public sealed partial class GpuBackend
{
    public override int Gather(Storage x, int outer, int extent, int inner, Storage index, int count, Storage y) => throw new NotImplementedException("pending");
    public override void GatherBackward(Storage gradY, Storage index, int outer, int extent, int inner, int count, Storage gradX) => throw new NotImplementedException("pending");
    public override void IndexSelect(Storage x, int outer, int extent, int inner, int[] indices, Storage y) => throw new NotImplementedException("pending");
    public override void IndexSelectBackward(Storage gradY, int outer, int extent, int inner, int[] indices, Storage gradX) => throw new NotImplementedException("pending");
    public override void Where(Storage condition, Storage a, Storage b, Storage y) => throw new NotImplementedException("pending");
    public override void Sort(Storage x, int outer, int extent, int inner, bool descending, Storage values, Storage indices) => throw new NotImplementedException("pending");
}
