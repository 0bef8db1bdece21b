using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Faces;

/// <summary>
/// A small encoder for 28×28 grey pictures (Fashion-MNIST standing in for faces): three conv-bn-relu blocks of w,
/// 2w and 4w channels (w = 16 by default), each followed by a 2×2 max-pool (28 → 14 → 7 → 3), a linear layer to 8w
/// features with ReLU, and a linear layer to the embedding, L2-normalised so that the embeddings lie on the unit
/// sphere. At w = 16 and a 64-d embedding: about 100k parameters and 2M multiply-accumulates per picture.
/// Sub-modules: <c>features</c> and <c>embedding</c>.
/// </summary>
public sealed class EmbeddingNetwork : Module
{
    /// <summary>The conv-bn-relu blocks and max-pools.</summary>
    public Sequential Features { get; }
    /// <summary>The linear layers and the normalisation.</summary>
    public Sequential Embedding { get; }
    /// <summary>Length of an embedding.</summary>
    public int EmbeddingSize { get; }
    /// <summary>Channels of the input pictures.</summary>
    public int InChannels { get; }
    /// <summary>Side of the square input pictures.</summary>
    public int InputSize { get; }
    /// <summary>Channels of the first block (the others have 2× and 4×).</summary>
    public int Width { get; }

    /// <param name="embeddingSize">length of the embedding (FaceNet's is 128)</param>
    /// <param name="inChannels">1 (grey) or 3</param>
    /// <param name="inputSize">side of the square input, at least 8 (three halvings)</param>
    /// <param name="width">channels of the first block</param>
    public EmbeddingNetwork(int embeddingSize = 64, int inChannels = 1, int inputSize = 28, int width = 16)
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, $"EmbeddingNetwork: width must be at least 1, not {width}.");
        if (embeddingSize < 1) throw new ArgumentOutOfRangeException(nameof(embeddingSize), embeddingSize, $"EmbeddingNetwork: embeddingSize must be at least 1, not {embeddingSize}.");
        if (inChannels < 1) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, $"EmbeddingNetwork: inChannels must be at least 1, not {inChannels}.");
        if (inputSize < 8) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, $"EmbeddingNetwork: inputSize must be at least 8, not {inputSize}.");
        (EmbeddingSize, InChannels, InputSize, Width) = (embeddingSize, inChannels, inputSize, width);
        Features = RegisterModule("features", new Sequential(
            new ConvBnRelu(inChannels, width, 3, padding: 1), new MaxPool2d(2),
            new ConvBnRelu(width, 2 * width, 3, padding: 1), new MaxPool2d(2),
            new ConvBnRelu(2 * width, 4 * width, 3, padding: 1), new MaxPool2d(2)));
        int side = inputSize / 8;
        Embedding = RegisterModule("embedding", new Sequential(
            new Linear(4 * width * side * side, 8 * width), new ReLU(), new Linear(8 * width, embeddingSize), new L2Normalize()));
    }

    /// <param name="input">(N, inChannels, inputSize, inputSize)</param>
    /// <returns>(N, embeddingSize), each row of unit length</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != InChannels || input.Shape[2] != InputSize || input.Shape[3] != InputSize)
            throw new ArgumentException($"EmbeddingNetwork: the input has shape {ModelChecks.Format(input.Shape)}, expected [N, {InChannels}, {InputSize}, {InputSize}].");
        return Embedding.Forward(F.Flatten(Features.Forward(input), 1));
    }
}
