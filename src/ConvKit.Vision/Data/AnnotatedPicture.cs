using ConvKit.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Data;

/// <summary>
/// One picture file and its checked boxes, as an annotation reader parsed it: the boxes' canvas is the picture's
/// declared size, which the decoded picture must match.
/// </summary>
/// <param name="Source">the annotation file and entry, for messages</param>
sealed record AnnotatedPicture(string ImagePath, BoundingBoxes Boxes, string Source)
{
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    public Sample Load(int channels)
    {
        var image = ImageFiles.Load(ImagePath, channels);
        if (image.Shape[1] != Boxes.CanvasHeight || image.Shape[2] != Boxes.CanvasWidth)
            throw new InvalidDataException($"{Source}: the annotations give the picture '{ImagePath}' a size of " +
                $"{Boxes.CanvasWidth}×{Boxes.CanvasHeight} (width×height) but it is {image.Shape[2]}×{image.Shape[1]}.");
        return new Sample(image) { Boxes = Boxes };
    }
}
