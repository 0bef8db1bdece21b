using System.CommandLine;
using System.Text.Json;
using ConvKit.Vision.Models;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary><c>convkit models [--json]</c>: the model zoo's names, designed-for inputs and descriptions.</summary>
static class ModelsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var command = new Command("models", "List the models of the zoo.") { json };
        command.SetAction(result => Run(result.GetValue(json), result.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(bool json, TextWriter output)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(ModelZoo.All.Select(m => new
            {
                name = m.Name,
                description = m.Description,
                input = new[] { m.InChannels, m.InputSize.Height, m.InputSize.Width },
                classes = m.NumClasses,
            })));
            return 0;
        }
        var table = new Table().AddColumn("Model").AddColumn("Input").AddColumn(new TableColumn("Classes").RightAligned()).AddColumn("Description");
        foreach (var m in ModelZoo.All)
            table.AddRow(new Text(m.Name), new Text($"{m.InChannels}x{m.InputSize.Height}x{m.InputSize.Width}"), new Text(m.NumClasses.ToString()), new Text(m.Description));
        ConsoleOutput.For(output).Write(table);
        return 0;
    }
}
