using System.CommandLine;
using ConvKit.Vision.Models;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary><c>convkit models</c>: the model zoo's names, the inputs they were designed for, and descriptions.</summary>
static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List the models of the zoo, with the input (channels×height×width) and classes each was designed for.");
        CommandOutput.AddJsonOption(command);
        command.SetAction(parsed => Run(new CommandOutput(parsed)));
        return command;
    }

    static int Run(CommandOutput output)
    {
        if (output.Json)
        {
            output.WriteJson(ModelZoo.All.Select(m => new
            {
                name = m.Name, description = m.Description, input = new[] { m.InChannels, m.InputSize.Height, m.InputSize.Width }, classes = m.NumClasses,
            }));
            return 0;
        }
        var table = new Table().AddColumn("Model").AddColumn("Input").AddColumn(new TableColumn("Classes").RightAligned()).AddColumn("Description");
        foreach (var m in ModelZoo.All)
            table.AddRow(new Text(m.Name), new Text($"{m.InChannels}x{m.InputSize.Height}x{m.InputSize.Width}"), new Text(m.NumClasses.ToString()), new Text(m.Description));
        output.Console.Write(table);
        return 0;
    }
}
