// The smallest app that restarts gracefully, built to be published as Native AOT.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Host.UseGracefulRestart();
builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
builder.Services.AddHostedService<StartupFault>();

var app = builder.Build();
app.MapGet("/", () => $"pid={Environment.ProcessId}\n");
app.Run();

/// <summary>
/// With <c>AotApp:FailStartup=true</c> in appsettings.json, each new generation fails before it is
/// ready, as a broken deployment would. Hosted services run only in children, never in the master.
/// </summary>
internal sealed class StartupFault(IConfiguration configuration) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        bool.TryParse(configuration["AotApp:FailStartup"], out bool fail) && fail
            ? throw new InvalidOperationException("AotApp:FailStartup is set: this generation fails before it is ready.")
            : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
