using ConvKit.Backends;
using ConvKit.Backends.Reference;

namespace ConvKit.Tests.Backends;

/// <summary>
/// The smallest backend a <see cref="CompositeBackend"/> allows: the core kernels, each handed to the reference backend
/// on the storage it wraps, and nothing else, so local response norm, adaptive pooling, label smoothing and the optimiser
/// steps run as the base class composes them. Its storage is its own kind, so a tensor on it is on it alone, and it
/// counts the values read back to the host.
/// </summary>
sealed class MinimalBackend : CompositeBackend
{
    static readonly ReferenceBackend Core = ReferenceBackend.Instance;

    /// <summary>The one minimal backend.</summary>
    public static MinimalBackend Instance { get; } = new();
    MinimalBackend() { }

    /// <summary>Calls on this thread that read values back to the host (GetItem, CopyTo, CopyIndicesTo); ops run on their caller's thread.</summary>
    public static int HostReads => hostReads;
    [ThreadStatic] static int hostReads;

    public override string Name => "minimal";

    sealed class MinimalStorage(Storage inner) : Storage
    {
        public Storage Inner { get; } = inner;
        public override int Length => Inner.Length;
        public override DType DType => Inner.DType;
        public override IBackend Backend => Instance;
    }

    static Storage Wrap(Storage inner) => new MinimalStorage(inner);
    static Storage In(Storage storage) => storage is MinimalStorage minimal ? minimal.Inner
        : throw new ArgumentException($"the minimal backend cannot use storage from backend '{storage.Backend.Name}'");
    static Storage? InOrNull(Storage? storage) => storage == null ? null : In(storage);
    static ClassTargets In(ClassTargets targets) => targets with { Targets = In(targets.Targets), Weights = InOrNull(targets.Weights) };

    protected override int OneHotNllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights) =>
        Core.NllLoss(In(logProbs), In(targets), In(losses), In(targetWeights));
    protected override void OneHotNllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput) =>
        Core.NllLossBackward(In(logProbs), In(targets), In(grads), fromLogits, In(dInput));

    public override Storage Allocate(int length) => Wrap(Core.Allocate(length));
    public override Storage AllocateUninitialized(int length) => Wrap(Core.AllocateUninitialized(length));
    public override void Release(Storage storage) => Core.Release(In(storage));
    public override Storage FromArray(ReadOnlySpan<float> values) => Wrap(Core.FromArray(values));
    public override void CopyTo(Storage source, Span<float> destination) { hostReads++; Core.CopyTo(In(source), destination); }
    public override float GetItem(Storage storage, int index) { hostReads++; return Core.GetItem(In(storage), index); }
    public override void SetItem(Storage storage, int index, float value) => Core.SetItem(In(storage), index, value);
    public override void Fill(Storage storage, float value) => Core.Fill(In(storage), value);
    public override Storage AllocateIndices(int length) => Wrap(Core.AllocateIndices(length));
    public override Storage FromIndices(ReadOnlySpan<int> values) => Wrap(Core.FromIndices(values));
    public override void CopyIndicesTo(Storage source, Span<int> destination) { hostReads++; Core.CopyIndicesTo(In(source), destination); }
    public override void IndicesToFloat(Storage indices, Storage values) => Core.IndicesToFloat(In(indices), In(values));
    public override void Unary(UnaryOp op, Storage x, Storage y) => Core.Unary(op, In(x), In(y));
    public override void Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage y, int[] yShape) => Core.Binary(op, In(a), aShape, In(b), bShape, In(y), yShape);
    public override void Reduce(ReduceOp op, Storage x, int outer, int extent, int inner, Storage y) => Core.Reduce(op, In(x), outer, extent, inner, In(y));
    public override void ArgMax(Storage x, int outer, int extent, int inner, Storage y) => Core.ArgMax(In(x), outer, extent, inner, In(y));
    public override void Permute(Storage x, int[] xShape, int[] dims, Storage y) => Core.Permute(In(x), xShape, dims, In(y));
    public override void CopyBlocks(Storage source, Storage destination, BlockCopy copy) => Core.CopyBlocks(In(source), In(destination), copy);
    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Storage a, int aOffset, int lda, Storage b, int bOffset, int ldb, float beta, Storage c, int cOffset, int ldc) => Core.Gemm(transA, transB, m, n, k, alpha, In(a), aOffset, lda, In(b), bOffset, ldb, beta, In(c), cOffset, ldc);
    public override void Activation(ActivationOp op, float parameter, Storage x, Storage y) => Core.Activation(op, parameter, In(x), In(y));
    public override void ActivationBackward(ActivationOp op, float parameter, Storage x, Storage y, Storage gradY, Storage gradX) => Core.ActivationBackward(op, parameter, In(x), In(y), In(gradY), In(gradX));
    public override void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry, ActivationOp? activation, float activationParameter) => Core.ConvForward(In(input), In(weight), InOrNull(bias), In(output), in geometry, activation, activationParameter);
    public override void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry) => Core.ConvBackwardData(In(outputGrad), In(weight), InOrNull(bias), In(inputGrad), in geometry);
    public override void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry) => Core.ConvBackwardWeight(In(input), In(outputGrad), In(weightGrad), in geometry);
    public override int Gather(Storage x, int outer, int extent, int inner, Storage index, int count, Storage y) => Core.Gather(In(x), outer, extent, inner, In(index), count, In(y));
    public override void GatherBackward(Storage gradY, Storage index, int outer, int extent, int inner, int count, Storage gradX) => Core.GatherBackward(In(gradY), In(index), outer, extent, inner, count, In(gradX));
    public override void IndexSelect(Storage x, int outer, int extent, int inner, int[] indices, Storage y) => Core.IndexSelect(In(x), outer, extent, inner, indices, In(y));
    public override void IndexSelectBackward(Storage gradY, int outer, int extent, int inner, int[] indices, Storage gradX) => Core.IndexSelectBackward(In(gradY), outer, extent, inner, indices, In(gradX));
    public override void Where(Storage condition, Storage a, Storage b, Storage y) => Core.Where(In(condition), In(a), In(b), In(y));
    public override void Sort(Storage x, int outer, int extent, int inner, bool descending, Storage values, Storage indices) => Core.Sort(In(x), outer, extent, inner, descending, In(values), In(indices));
    public override void MaxPool2d(Storage x, Pool2dGeometry geometry, Storage y, Storage argmax) => Core.MaxPool2d(In(x), geometry, In(y), In(argmax));
    public override void MaxPool2dBackward(Storage gradY, Storage argmax, Pool2dGeometry geometry, Storage gradX) => Core.MaxPool2dBackward(In(gradY), In(argmax), geometry, In(gradX));
    public override void AvgPool2d(Storage x, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage y) => Core.AvgPool2d(In(x), geometry, countIncludePad, divisorOverride, In(y));
    public override void AvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage gradX) => Core.AvgPool2dBackward(In(gradY), geometry, countIncludePad, divisorOverride, In(gradX));
    public override void RoiPool(Storage x, Storage boxes, RoiGeometry geometry, Storage y, Storage argmax) => Core.RoiPool(In(x), In(boxes), geometry, In(y), In(argmax));
    public override void RoiPoolBackward(Storage gradY, Storage boxes, Storage argmax, RoiGeometry geometry, Storage gradX) => Core.RoiPoolBackward(In(gradY), In(boxes), In(argmax), geometry, In(gradX));
    public override void RoiAlign(Storage x, Storage boxes, RoiGeometry geometry, Storage y) => Core.RoiAlign(In(x), In(boxes), geometry, In(y));
    public override void RoiAlignBackward(Storage gradY, Storage boxes, RoiGeometry geometry, Storage gradX) => Core.RoiAlignBackward(In(gradY), In(boxes), geometry, In(gradX));
    public override void LogSoftmax(Storage x, int outer, int extent, int inner, Storage y) => Core.LogSoftmax(In(x), outer, extent, inner, In(y));
    public override void UpsampleNearest(Storage x, UpsampleGeometry geometry, Storage y) => Core.UpsampleNearest(In(x), geometry, In(y));
    public override void UpsampleNearestBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX) => Core.UpsampleNearestBackward(In(gradY), geometry, In(gradX));
    public override void UpsampleBilinear(Storage x, UpsampleGeometry geometry, Storage y) => Core.UpsampleBilinear(In(x), geometry, In(y));
    public override void UpsampleBilinearBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX) => Core.UpsampleBilinearBackward(In(gradY), geometry, In(gradX));
}
