using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Endpoints;

/// <summary>
/// The URLs the web host gives the server before starting it: those the app set on the server
/// itself (<c>app.Urls</c>, <c>app.Run(url)</c>), else <c>urls</c> from configuration (<c>--urls</c>,
/// <c>ASPNETCORE_URLS</c>, <c>UseUrls</c>), else <c>http_ports</c>/<c>https_ports</c>
/// (<c>ASPNETCORE_HTTP_PORTS</c>). The master needs them because the app's web host service, which
/// hands them over in a plain run, does not run there. Kestrel decides what they mean.
/// </summary>
/// <param name="Urls">The URLs, in order; empty when the app names none.</param>
/// <param name="PreferHostingUrls">Whether these URLs win over endpoints set in code or <c>Kestrel:Endpoints</c>.</param>
/// <param name="Source">Where the URLs come from, for messages: <c>app.Urls</c>, <c>urls</c> or <c>http_ports/https_ports</c>.</param>
internal sealed record HostingAddresses(IReadOnlyList<string> Urls, bool PreferHostingUrls, string Source)
{
    /// <summary>The addresses for a server whose feature is <paramref name="appServer"/> (null when the app has no server).</summary>
    public static HostingAddresses Resolve(IServerAddressesFeature? appServer, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (appServer is not null && appServer.Addresses.Count > 0)
        {
            return new HostingAddresses([.. appServer.Addresses], appServer.PreferHostingUrls, "app.Urls");
        }

        string source = "urls";
        string? urls = configuration["urls"];
        if (string.IsNullOrEmpty(urls))
        {
            source = "http_ports/https_ports";
            string http = ExpandPorts(configuration["http_ports"], "http");
            string https = ExpandPorts(configuration["https_ports"], "https");
            urls = $"{http};{https}";
        }

        var list = urls.Split(';', StringSplitOptions.RemoveEmptyEntries);
        if (list.Length == 0)
        {
            return new HostingAddresses([], appServer?.PreferHostingUrls ?? false, source);
        }

        string? prefer = configuration["preferHostingUrls"];
        bool preferHostingUrls = string.Equals(prefer, "true", StringComparison.OrdinalIgnoreCase) || prefer == "1";
        return new HostingAddresses(list, preferHostingUrls, source);
    }

    private static string ExpandPorts(string? ports, string scheme) =>
        string.Join(';', (ports ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(port => $"{scheme}://*:{port}"));
}
