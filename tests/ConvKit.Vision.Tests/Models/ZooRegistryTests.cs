using ConvKit.Vision.Models;

namespace ConvKit.Vision.Tests.Models;

public class ZooRegistryTests
{
    [Fact]
    public void EveryClassicVariantIsRegistered()
    {
        string[] expected = ["lenet5", "lenet5-mnist", "small-cnn", "resnet-mnist", "alexnet", "alexnet-lrn",
            "vgg11", "vgg13", "vgg16", "vgg19", "vgg11-bn", "vgg13-bn", "vgg16-bn", "vgg19-bn",
            "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "googlenet", "unet"];
        Assert.Equal(expected.Order(), ModelZoo.Models.Select(m => m.Name).Where(expected.Contains).Order());
    }

    [Fact]
    public void ModelsDefaultToTheirDesignedChannelsAndClasses()
    {
        var entry = ModelZoo.Get("SMALL-CNN");
        Assert.Equal((1, 10, new Size2(28, 28)), (entry.InChannels, entry.NumClasses, entry.InputSize));
        var model = (SmallCnn)ModelZoo.Create("small-cnn");
        Assert.Equal([1, 10], model.Forward(Tensor.Zeros(1, 1, 28, 28)).Shape);
        var rgb = ModelZoo.Create("small-cnn", inChannels: 3, numClasses: 4);
        Assert.Equal([2, 4], rgb.Forward(Tensor.Zeros(2, 3, 28, 28)).Shape);
    }
}
