using Microsoft.AspNetCore.SignalR;

namespace GracefulHosting.SignalRApp;

/// <summary>A SignalR hub served under a graceful restart master, for the integration tests.</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Host.UseGracefulRestart();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "[HH:mm:ss.fff] ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSignalR();

        var app = builder.Build();
        app.MapGet("/", () => $"SignalR test app, pid={Environment.ProcessId}\n");
        app.MapHub<ChatHub>("/chat");
        app.Run();
        return 0;
    }
}

/// <summary>Tells callers which process serves them, and relays messages to every client.</summary>
public sealed class ChatHub : Hub
{
    /// <summary>The pid of the generation that serves this connection.</summary>
    public int Pid() => Environment.ProcessId;

    /// <summary>Sends <c>Message(sender, sequence, pid)</c> to every connected client.</summary>
    public Task Send(string sender, int sequence) =>
        Clients.All.SendAsync("Message", sender, sequence, Environment.ProcessId);
}
