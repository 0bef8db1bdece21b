using System.Globalization;
using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// What <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> share (see <see cref="F.BatchNorm"/>): a learnt
/// per-channel scale <c>weight</c> (1) and shift <c>bias</c> (0) when affine, and the buffers
/// <c>running_mean</c> (0), <c>running_var</c> (1) and <c>num_batches_tracked</c> (0) when tracking running
/// statistics. Training mode normalises with the batch's statistics and updates the buffers; evaluation
/// mode uses the buffers.
/// </summary>
public abstract class BatchNorm : Module
{
    /// <summary>Channels normalised, C.</summary>
    public int NumFeatures { get; }
    /// <summary>Added to the variance before its square root, for numerical stability.</summary>
    public float Eps { get; }
    /// <summary>Weight of the newest batch in the running averages; null for a cumulative average over all batches.</summary>
    public float? Momentum { get; }
    /// <summary>Whether the layer learns a per-channel scale and shift.</summary>
    public bool Affine { get; }
    /// <summary>Whether the layer keeps running averages of the mean and variance for evaluation mode.</summary>
    public bool TrackRunningStats { get; }

    /// <summary>(C), or null without <see cref="Affine"/>.</summary>
    public Tensor? Weight { get; }
    /// <summary>(C), or null without <see cref="Affine"/>.</summary>
    public Tensor? Bias { get; }
    /// <summary>(C), or null without <see cref="TrackRunningStats"/>.</summary>
    public Tensor? RunningMean { get; }
    /// <summary>(C), or null without <see cref="TrackRunningStats"/>.</summary>
    public Tensor? RunningVar { get; }
    /// <summary>Training batches seen, a float tensor of shape [] (PyTorch stores int64).</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>Checks the configuration and creates the parameters and buffers the flags ask for.</summary>
    protected BatchNorm(int numFeatures, float eps, float? momentum, bool affine, bool trackRunningStats)
    {
        string name = GetType().Name;
        if (numFeatures < 1)
            throw new ArgumentOutOfRangeException(nameof(numFeatures), $"{name}: numFeatures must be positive, got {numFeatures}.");
        if (!(eps >= 0))
            throw new ArgumentOutOfRangeException(nameof(eps), $"{name}: eps must not be negative, got {eps}.");
        if (momentum is { } m && !(m >= 0 && m <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), $"{name}: momentum must be in [0, 1] or null, got {m}.");
        (NumFeatures, Eps, Momentum, Affine, TrackRunningStats) = (numFeatures, eps, momentum, affine, trackRunningStats);
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(numFeatures));
            Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        }
        if (trackRunningStats)
        {
            RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
            RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
            NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Scalar(0));
        }
    }

    /// <summary>Throws unless <paramref name="inputShape"/> has a rank this layer accepts.</summary>
    protected abstract void CheckRank(int[] inputShape);

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        OutputShapeCore(input.Dims);
        if (Training && NumBatchesTracked != null)
            using (Tensor.NoGrad()) NumBatchesTracked.AddInPlace(Tensor.Scalar(1f, NumBatchesTracked.Backend));
        // Without a momentum the running statistics are a cumulative average, 1/count computed on the count's backend.
        return F.BatchNormCore(input, RunningMean, RunningVar, Weight, Bias, Training || RunningMean == null, Momentum ?? 0f, Eps,
            batchesTracked: Momentum == null && Training ? NumBatchesTracked : null);
    }

    /// <summary>The same shape as the input, which must have <see cref="NumFeatures"/> channels on axis 1.</summary>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        CheckRank(inputShape);
        if (inputShape[1] != NumFeatures)
            throw new ArgumentException($"{GetType().Name}: expected {NumFeatures} channels (axis 1), got input of shape {Shapes.Format(inputShape)}.");
        return [.. inputShape];
    }

    /// <inheritdoc/>
    protected override string Describe() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{GetType().Name}({NumFeatures}, eps={Eps}, momentum={(Momentum?.ToString(CultureInfo.InvariantCulture) ?? "null")}, affine={(Affine ? "true" : "false")}, trackRunningStats={(TrackRunningStats ? "true" : "false")})");
}
