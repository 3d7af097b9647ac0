using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// Each setup is a small app as people write them, differing only in how Kestrel gets its endpoints.
// The tests pass the free port (and socket path, certificate) they picked on the command line.

// A helper process started first thing, before the host exists, as some apps start a sidecar:
// --early-process=<program> starts it with the argument 600 and its own output pipes, and prints its pid.
if (args.FirstOrDefault(a => a.StartsWith("--early-process=", StringComparison.Ordinal)) is { } early)
{
    using var helper = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(early["--early-process=".Length..], "600")
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    })!;
    Console.WriteLine($"Early process started with pid {helper.Id}");
}

var builder = WebApplication.CreateBuilder(args);
builder.Host.UseGracefulRestart();
builder.Logging.AddSimpleConsole(console => console.SingleLine = true);

string setup = builder.Configuration["setup"]
    ?? throw new InvalidOperationException(
        "Pass --setup=<name>: listen-loopback, listen-any-ip, listen-localhost, unix-and-tcp, use-urls, https-code, run-url, http2-code or http2-defaults.");
int port = builder.Configuration.GetValue<int>("port");
string socketPath = builder.Configuration["socket"] ?? "/run/endpoints-app/app.sock";

switch (setup)
{
    case "listen-loopback":
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        break;
    case "listen-any-ip":
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(port));
        break;
    case "listen-localhost":
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenLocalhost(port));
        break;
    case "unix-and-tcp":
        // The usual set-up behind nginx: a Unix socket for the proxy, a TCP port for health checks.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(socketPath);
            kestrel.Listen(IPAddress.Loopback, port);
        });
        break;
    case "use-urls":
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        break;
    case "https-code":
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
            listen.UseHttps(builder.Configuration["certificate"]!, builder.Configuration["certificatePassword"])));
        break;
    case "run-url":
        break;
    case "http2-code":
        // A plain endpoint that only speaks HTTP/2 (with prior knowledge, as gRPC clients do), set in code alone.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        break;
    case "http2-defaults":
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));
        break;
    default:
        throw new InvalidOperationException($"Unknown --setup '{setup}'.");
}

#if NEXT_RELEASE
// The next release's code adds a port and a Unix socket (for a proxy) beside whatever the setup names.
int nextPort = builder.Configuration.GetValue<int>("nextPort");
string nextSocket = builder.Configuration["nextSocket"] ?? "/run/endpoints-app/next.sock";
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Listen(IPAddress.Loopback, nextPort);
    kestrel.ListenUnixSocket(nextSocket);
});
const string release = "next";
#else
const string release = "first";
#endif

var app = builder.Build();
if (builder.Configuration["flood-gate"] is { } gate)
{
    var flood = LogFlood.Start(gate, builder.Configuration.GetValue("flood-lines", 10_000), builder.Configuration.GetValue("flood-length", 300));
    // A stopping generation stays until its burst is written, so that several generations write at once.
    app.Lifetime.ApplicationStopping.Register(() => flood.Wait());
}

app.MapGet("/", (HttpContext context) => $"Hello from {setup} ({release} release) on {context.Connection.LocalIpAddress?.ToString() ?? "a Unix socket"}, pid={Environment.ProcessId}\n");

if (setup == "run-url")
{
    app.Run($"http://127.0.0.1:{port}");
}
else
{
    app.Run();
}
