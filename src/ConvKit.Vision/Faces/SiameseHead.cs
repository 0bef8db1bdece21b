using ConvKit.Vision.Models;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Faces;

/// <summary>
/// Face verification as binary classification (DeepFace; the course's Siamese network): the element-wise distance
/// between two embeddings, |f(a) − f(b)|, into one logistic unit, ŷ = σ(Σₖ wₖ·|f(a)ₖ − f(b)ₖ| + b), the probability
/// that a and b are the same identity. Returns the logit; train with binary cross-entropy on logits.
/// Parameters <c>fc.weight</c> (1, D) and <c>fc.bias</c> (1).
/// </summary>
public sealed class SiameseHead : Module
{
    /// <summary>The logistic unit's weights and bias.</summary>
    public Linear Fc { get; }
    /// <summary>Length of the embeddings compared.</summary>
    public int EmbeddingSize { get; }

    /// <param name="embeddingSize">D, the length of the embeddings compared</param>
    public SiameseHead(int embeddingSize)
    {
        if (embeddingSize < 1) throw new ArgumentOutOfRangeException(nameof(embeddingSize), embeddingSize, $"SiameseHead: embeddingSize must be at least 1, not {embeddingSize}.");
        EmbeddingSize = embeddingSize;
        Fc = RegisterModule("fc", new Linear(embeddingSize, 1));
    }

    /// <summary>The logit that each pair (a[i], b[i]) is the same identity.</summary>
    /// <param name="first">(N, D)</param>
    /// <param name="second">(N, D)</param>
    /// <returns>(N) logits</returns>
    public Tensor Forward(Tensor first, Tensor second)
    {
        if (first.Rank != 2 || first.Shape[1] != EmbeddingSize || !first.Shape.SequenceEqual(second.Shape))
            throw new ArgumentException($"SiameseHead: the embeddings have shapes {ModelChecks.Format(first.Shape)} and {ModelChecks.Format(second.Shape)}; both must be [N, {EmbeddingSize}].");
        return Fc.Forward((first - second).Abs()).Reshape(first.Shape[0]);
    }

    /// <summary>Use <see cref="Forward(Tensor, Tensor)"/>: the head compares two embeddings.</summary>
    protected override Tensor ForwardCore(Tensor input) =>
        throw new InvalidOperationException("SiameseHead compares two embeddings: call Forward(first, second).");
}

/// <summary>
/// An encoder and a <see cref="SiameseHead"/> trained together on pairs. <c>Forward(pictures)</c> gives the
/// embeddings; <see cref="PairLogits"/> compares two of them. Sub-modules: <c>encoder</c> and <c>head</c>.
/// </summary>
public sealed class SiameseNetwork : Module
{
    /// <summary>Maps pictures to embeddings.</summary>
    public EmbeddingNetwork Encoder { get; }
    /// <summary>Maps two embeddings to the logit that they are the same identity.</summary>
    public SiameseHead Head { get; }

    /// <summary>A head over <paramref name="encoder"/>'s embeddings.</summary>
    public SiameseNetwork(EmbeddingNetwork encoder)
    {
        Encoder = RegisterModule("encoder", encoder);
        Head = RegisterModule("head", new SiameseHead(encoder.EmbeddingSize));
    }

    /// <summary>The logit that each pair is the same identity.</summary>
    /// <param name="first">(N, D) embeddings</param>
    /// <param name="second">(N, D) embeddings</param>
    public Tensor PairLogits(Tensor first, Tensor second) => Head.Forward(first, second);

    /// <param name="input">pictures (N, C, H, W)</param>
    /// <returns>embeddings (N, D)</returns>
    protected override Tensor ForwardCore(Tensor input) => Encoder.Forward(input);
}
