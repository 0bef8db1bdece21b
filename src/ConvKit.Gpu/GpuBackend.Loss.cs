namespace ConvKit.Backends.Gpu;

public sealed partial class GpuBackend
{
    protected override int OneHotNllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights) => throw new NotImplementedException("pending");
    protected override void OneHotNllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput) => throw new NotImplementedException("pending");
}
