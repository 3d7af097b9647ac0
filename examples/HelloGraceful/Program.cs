using System.Runtime.CompilerServices;
using System.Net.WebSockets;
using System.Text;
using HelloGraceful;
using Microsoft.AspNetCore.Http.Features;
using Serilog;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();

try
{
    var builder = WebApplication.CreateBuilder(args);

    // The one line: a master owns the sockets and restarts the app on SIGHUP without dropping a request.
    builder.Host.UseGracefulRestart();

    // Logging comes from the "Serilog" section of appsettings.json. Published as Native AOT, where
    // ReadFrom.Configuration's reflection cannot work, the same section is read without it.
    builder.Services.AddSerilog((services, logger) => (RuntimeFeature.IsDynamicCodeSupported
            ? logger.ReadFrom.Configuration(builder.Configuration)
            : SerilogSettings.FromConfiguration(logger, builder.Configuration))
        .ReadFrom.Services(services));
    builder.Services.Configure<HelloOptions>(builder.Configuration.GetSection(HelloOptions.SectionName));
    builder.Services.AddHostedService<WarmupService>();
    builder.Services.AddHostedService<PidRecorderService>();
    builder.Services.AddHostedService<FaultService>();
    // Unhealthy while the service stops, so load balancers stop sending it work; healthy through restarts.
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
    // Long-lived connections, written as any app writes them: the library tells them to go when this
    // generation drains (WebSocket close 1001, the event stream ended), and the clients reconnect to
    // the next one.
    app.UseWebSockets();
    app.Map("/ws", async (HttpContext context) =>
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await socket.SendAsync(Encoding.UTF8.GetBytes(pidText), WebSocketMessageType.Text, true, context.RequestAborted);
        var buffer = new byte[4096];
        var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
        while (!received.CloseStatus.HasValue)
        {
            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
            received = await socket.ReceiveAsync(buffer, context.RequestAborted);
        }

        await socket.CloseAsync(received.CloseStatus.Value, received.CloseStatusDescription, CancellationToken.None);
    });
    app.MapGet("/sse", async (HttpContext context) =>
    {
        context.Response.ContentType = "text/event-stream";
        for (int n = 0; !context.RequestAborted.IsCancellationRequested; n++)
        {
            await context.Response.WriteAsync($"data: {pidText} n={n}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(100, context.RequestAborted);
        }
    });

    // A long poll: answers when there is news, here after 30 s. Marked, so a restart answers it at once.
    app.MapGet("/poll", async (CancellationToken aborted) =>
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(30), aborted);
        }
        catch (OperationCanceledException)
        {
        }

        return $"No news, {pidText}\n";
    }).WithLongLived();

    // An upload in flight when a restart begins is an ordinary request: it completes on this generation.
    app.MapPost("/upload", async (HttpContext context) =>
    {
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = 100 * 1024 * 1024;
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            total += read;
        }

        return $"Received {total} bytes, {pidText}\n";
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
