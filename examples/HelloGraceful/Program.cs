using HelloGraceful;
using Serilog;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();

try
{
    var builder = WebApplication.CreateBuilder(args);

    // The one line: a master owns the sockets and restarts the app on SIGHUP without dropping a request.
    builder.Host.UseGracefulRestart();

    builder.Services.AddSerilog((services, logger) => logger
        .ReadFrom.Configuration(builder.Configuration)
        .ReadFrom.Services(services));
    builder.Services.Configure<HelloOptions>(builder.Configuration.GetSection(HelloOptions.SectionName));
    builder.Services.AddHostedService<WarmupService>();
    builder.Services.AddHostedService<PidRecorderService>();
    builder.Services.AddHostedService<FaultService>();
    // Unhealthy while this generation drains, so load balancers stop sending it work.
    builder.Services.AddHealthChecks().AddGracefulRestartChecks();

    var app = builder.Build();

    string pidText = $"pid={Environment.ProcessId}";
    app.MapGet("/", () => $"Hello from HelloGraceful, {pidText}\n");
    app.MapHealthChecks("/healthz");
    app.MapGet("/slow", async (int ms) =>
    {
        // Deliberately not cancelled on shutdown: a draining child finishes what it started.
        await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, 600_000)));
        return $"Slow hello after {ms} ms, {pidText}\n";
    });
    // Counts the bytes of an uploaded body: an upload under way finishes even while its generation drains.
    app.MapPost("/upload", async (HttpRequest request) =>
    {
        long received = 0;
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer)) > 0)
        {
            received += read;
        }

        return $"Received {received} bytes, {pidText}\n";
    });

    app.Run();
    return 0;
}
catch (Exception exception) when (exception is not HostAbortedException)
{
    Log.Fatal(exception, "HelloGraceful stopped because of an error");
    return 1;
}
finally
{
    Log.CloseAndFlush();
}

/// <summary>Makes the generated Program class visible to WebApplicationFactory tests.</summary>
public partial class Program;
