using System.CommandLine;
using ConvKit.Ops;
using ConvKit.Vision.Imaging;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary><c>convkit predict CHECKPOINT IMAGE...</c>: the top-k classes of each image with their probabilities.</summary>
static class PredictCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint written by 'convkit train'." };
        var images = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, GIF, WebP).", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { Description = "How many classes to show per image.", DefaultValueFactory = _ => 3 };
        var invert = new Option<bool>("--invert") { Description = "Invert the images first (dark object on light paper → light on dark, as in MNIST)." };
        var command = new Command("predict", """
            Classify images with a trained checkpoint: each image is converted to the model's channels and size,
            normalised as in training, and the top-k classes are printed with their softmax probabilities.
            """) { checkpoint, images, top, invert };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, """
            convkit predict runs/lenet5-fashion-mnist/best.safetensors shoe.png shirt.jpg
            convkit predict runs/lenet5-mnist/best.safetensors digit.png --invert --top 5 --json
            """);
        command.SetAction(parsed => Run(parsed.GetValue(checkpoint)!, parsed.GetValue(images)!, parsed.GetValue(top), parsed.GetValue(invert),
            new CommandOutput(parsed)));
        return command;
    }

    static int Run(string path, string[] files, int top, bool invert, CommandOutput output)
    {
        if (top < 1) throw new ArgumentException($"--top must be at least 1, not {top}.");
        var (model, record, _) = ModelRecord.Load(path);
        // Each picture is brought to the dataset's image size, then centred in the model's input as in training.
        int[] input = record.InputShape, image = record.ImageShape;
        int length = input[0] * input[1] * input[2], padTop = (input[1] - image[1]) / 2, padLeft = (input[2] - image[2]) / 2;
        var values = new float[files.Length * length];
        for (int i = 0; i < files.Length; i++)
        {
            var picture = ImageFiles.Load(files[i], input[0], new Size2(image[1], image[2]));
            var pixels = (invert ? 1f - picture : picture).ToArray();
            var sample = values.AsSpan(i * length, length);
            for (int c = 0; c < input[0]; c++)
                for (int y = 0; y < image[1]; y++)
                    pixels.AsSpan((c * image[1] + y) * image[2], image[2]).CopyTo(sample[(((c * input[1]) + padTop + y) * input[2] + padLeft)..]);
            record.Normalization.Apply(sample, input, Random.Shared);
        }
        float[] probabilities;
        using (Tensor.NoGrad())
            probabilities = F.Softmax(model.Forward(Tensor.FromArray(values, [files.Length, .. input])), 1).ToArray();

        int classes = record.Classes.Length, k = Math.Min(top, classes);
        var predictions = files.Select((file, i) => new
        {
            image = file,
            top = Enumerable.Range(0, classes).OrderByDescending(c => probabilities[i * classes + c]).Take(k)
                .Select(c => new { @class = record.Classes[c], index = c, probability = (double)probabilities[i * classes + c] }).ToArray(),
        }).ToArray();

        if (output.Json)
        {
            output.WriteJson(new { checkpoint = path, model = record.Model, predictions });
            return 0;
        }
        var table = new Table().AddColumns("image", "rank", "class", "probability");
        foreach (var prediction in predictions)
            for (int r = 0; r < prediction.top.Length; r++)
                table.AddRow(r == 0 ? Markup.Escape(prediction.image) : "", (r + 1).ToString(), Markup.Escape(prediction.top[r].@class),
                    $"{prediction.top[r].probability:P2}");
        output.Console.Write(table);
        return 0;
    }
}
