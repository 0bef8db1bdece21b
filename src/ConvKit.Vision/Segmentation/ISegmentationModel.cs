namespace ConvKit.Vision.Segmentation;

/// <summary>
/// A model that scores every pixel: (N, C, H, W) in, (N, classes, H, W) out, for H and W multiples of
/// <see cref="SizeMultiple"/> (its pooling halves the picture that many times over). <see cref="Segmenter"/> pads
/// other sizes up to a multiple and crops the scores back.
/// </summary>
public interface ISegmentationModel
{
    /// <summary>What the picture's height and width must be multiples of (2^levels of pooling).</summary>
    int SizeMultiple { get; }
}
