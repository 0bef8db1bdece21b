using ConvKit.Backends;

namespace ConvKit.Tests.Backends;

/// <summary>
/// A backend whose every method throws, naming itself: made the default while a test proves that nothing reaches the
/// default backend (every scalar and temporary of an op is made on its operands' backend).
/// </summary>
sealed class RefusingBackend : IBackend
{
    public string Name => "refusing";
    public Storage Allocate(int length) => throw Refused("Allocate");

    static InvalidOperationException Refused(string method) =>
        new($"{method} was called on the default backend, which this test refuses: a tensor was made off its operands' backend");

    public void Activation(ActivationOp op, float parameter, Storage x, Storage y) => throw Refused("Activation");
    public void ActivationBackward(ActivationOp op, float parameter, Storage x, Storage y, Storage gradY, Storage gradX) => throw Refused("ActivationBackward");
    public void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry, ActivationOp? activation, float activationParameter) => throw Refused("ConvForward");
    public void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry) => throw Refused("ConvBackwardData");
    public void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry) => throw Refused("ConvBackwardWeight");
    public int Gather(Storage x, int outer, int extent, int inner, Storage index, int count, Storage y) => throw Refused("Gather");
    public void GatherBackward(Storage gradY, Storage index, int outer, int extent, int inner, int count, Storage gradX) => throw Refused("GatherBackward");
    public void IndexSelect(Storage x, int outer, int extent, int inner, int[] indices, Storage y) => throw Refused("IndexSelect");
    public void IndexSelectBackward(Storage gradY, int outer, int extent, int inner, int[] indices, Storage gradX) => throw Refused("IndexSelectBackward");
    public void Where(Storage condition, Storage a, Storage b, Storage y) => throw Refused("Where");
    public void Sort(Storage x, int outer, int extent, int inner, bool descending, Storage values, Storage indices) => throw Refused("Sort");
    public int NllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights) => throw Refused("NllLoss");
    public void NllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput) => throw Refused("NllLossBackward");
    public void BatchNormStatistics(Storage x, int batch, int channels, int spatial, Storage mean, Storage variance) => throw Refused("BatchNormStatistics");
    public void BatchNormNormalize(Storage x, int batch, int channels, int spatial, Storage mean, Storage invStd, Storage? weight, Storage? bias, Storage y) => throw Refused("BatchNormNormalize");
    public void BatchNormBackward(Storage x, Storage gradY, int batch, int channels, int spatial, Storage mean, Storage invStd, Storage? weight, bool batchStatistics, Storage? gradX, Storage gradWeight, Storage gradBias) => throw Refused("BatchNormBackward");
    public void LocalResponseNorm(Storage x, int batch, int channels, int spatial, int size, float alpha, float beta, float k, Storage y, Storage scale) => throw Refused("LocalResponseNorm");
    public void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage gradY, int batch, int channels, int spatial, int size, float alpha, float beta, Storage gradX) => throw Refused("LocalResponseNormBackward");
    public void LayerNorm(Storage x, int rows, int features, Storage? weight, Storage? bias, float eps, Storage y, Storage mean, Storage invStd) => throw Refused("LayerNorm");
    public void LayerNormBackward(Storage x, Storage gradY, int rows, int features, Storage mean, Storage invStd, Storage? weight, Storage? gradX, Storage? gradWeight, Storage? gradBias) => throw Refused("LayerNormBackward");
    public void SgdStep(Storage parameter, Storage gradient, Storage? momentumBuffer, SgdUpdate update) => throw Refused("SgdStep");
    public void AdamStep(Storage parameter, Storage gradient, Storage expAvg, Storage expAvgSq, Storage? maxExpAvgSq, AdamUpdate update) => throw Refused("AdamStep");
    public void MaxPool2d(Storage x, Pool2dGeometry geometry, Storage y, Storage argmax) => throw Refused("MaxPool2d");
    public void MaxPool2dValues(Storage x, Pool2dGeometry geometry, Storage y) => throw Refused("MaxPool2dValues");
    public void MaxPool2dBackward(Storage gradY, Storage argmax, Pool2dGeometry geometry, Storage gradX) => throw Refused("MaxPool2dBackward");
    public void AvgPool2d(Storage x, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage y) => throw Refused("AvgPool2d");
    public void AvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage gradX) => throw Refused("AvgPool2dBackward");
    public void AdaptiveAvgPool2d(Storage x, Pool2dGeometry geometry, Storage y) => throw Refused("AdaptiveAvgPool2d");
    public void AdaptiveAvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, Storage gradX) => throw Refused("AdaptiveAvgPool2dBackward");
    public void RoiPool(Storage x, Storage boxes, RoiGeometry geometry, Storage y, Storage argmax) => throw Refused("RoiPool");
    public void RoiPoolBackward(Storage gradY, Storage boxes, Storage argmax, RoiGeometry geometry, Storage gradX) => throw Refused("RoiPoolBackward");
    public void RoiAlign(Storage x, Storage boxes, RoiGeometry geometry, Storage y) => throw Refused("RoiAlign");
    public void RoiAlignBackward(Storage gradY, Storage boxes, RoiGeometry geometry, Storage gradX) => throw Refused("RoiAlignBackward");
    public void Softmax(Storage x, int outer, int extent, int inner, Storage y) => throw Refused("Softmax");
    public void LogSoftmax(Storage x, int outer, int extent, int inner, Storage y) => throw Refused("LogSoftmax");
    public void SoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx) => throw Refused("SoftmaxBackward");
    public void LogSoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx) => throw Refused("LogSoftmaxBackward");
    public void UpsampleNearest(Storage x, UpsampleGeometry geometry, Storage y) => throw Refused("UpsampleNearest");
    public void UpsampleNearestBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX) => throw Refused("UpsampleNearestBackward");
    public void UpsampleBilinear(Storage x, UpsampleGeometry geometry, Storage y) => throw Refused("UpsampleBilinear");
    public void UpsampleBilinearBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX) => throw Refused("UpsampleBilinearBackward");
    public Storage AllocateUninitialized(int length) => throw Refused("AllocateUninitialized");
    public void Release(Storage storage) => throw Refused("Release");
    public Storage FromArray(ReadOnlySpan<float> values) => throw Refused("FromArray");
    public void CopyTo(Storage source, Span<float> destination) => throw Refused("CopyTo");
    public float GetItem(Storage storage, int index) => throw Refused("GetItem");
    public void SetItem(Storage storage, int index, float value) => throw Refused("SetItem");
    public void Fill(Storage storage, float value) => throw Refused("Fill");
    public void Copy(Storage source, Storage destination) => throw Refused("Copy");
    public Storage AllocateIndices(int length) => throw Refused("AllocateIndices");
    public Storage FromIndices(ReadOnlySpan<int> values) => throw Refused("FromIndices");
    public void CopyIndicesTo(Storage source, Span<int> destination) => throw Refused("CopyIndicesTo");
    public void IndicesToFloat(Storage indices, Storage values) => throw Refused("IndicesToFloat");
    public void Unary(UnaryOp op, Storage x, Storage y) => throw Refused("Unary");
    public void PowScalar(Storage x, float exponent, Storage y) => throw Refused("PowScalar");
    public void Clamp(Storage x, float min, float max, Storage y) => throw Refused("Clamp");
    public void Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage y, int[] yShape) => throw Refused("Binary");
    public void Expand(Storage x, int[] xShape, Storage y, int[] yShape) => throw Refused("Expand");
    public void Reduce(ReduceOp op, Storage x, int outer, int extent, int inner, Storage y) => throw Refused("Reduce");
    public void ArgMax(Storage x, int outer, int extent, int inner, Storage y) => throw Refused("ArgMax");
    public void Permute(Storage x, int[] xShape, int[] dims, Storage y) => throw Refused("Permute");
    public void CopyBlocks(Storage source, Storage destination, BlockCopy copy) => throw Refused("CopyBlocks");
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Storage a, int aOffset, int lda, Storage b, int bOffset, int ldb, float beta, Storage c, int cOffset, int ldc) => throw Refused("Gemm");
}
