namespace ConvKit.Backends.Gpu;

public sealed partial class GpuBackend
{
    public override void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry, ActivationOp? activation = null, float activationParameter = 0f) => throw new NotImplementedException("pending");
    public override void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry) => throw new NotImplementedException("pending");
    public override void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry) => throw new NotImplementedException("pending");
}
