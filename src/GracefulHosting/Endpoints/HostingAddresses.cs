using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Endpoints;

// As the web host finds them before it starts the server: app.Urls, else urls (--urls, ASPNETCORE_URLS), else http_ports/https_ports.
internal sealed record HostingAddresses(IReadOnlyList<string> Urls, bool PreferHostingUrls, string Source)
{
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
