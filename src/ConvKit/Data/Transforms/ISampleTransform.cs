namespace ConvKit.Data.Transforms;

/// <summary>
/// A change of a whole <see cref="Sample"/>: geometric transforms (flip, crop, resize, letterbox) move the boxes and
/// the mask with the pixels and may change the picture's size; photometric ones (colour jitter, normalisation) change
/// only the image. Random transforms draw from the Random they are given (the loader seeds it per sample and epoch).
/// An <see cref="ITransform"/> is one of these that only changes the image, in place.
/// </summary>
public interface ISampleTransform
{
    /// <summary>The transformed sample; a random transform draws from <paramref name="random"/>.</summary>
    Sample Apply(Sample sample, Random random);
}
