import Foundation
import GroveModel
import Testing

/// Each language runtime from Debian builds and serves a sample application whose dependencies are vendored or
/// none (no registry beyond Debian's and PyPI is reachable), keeps data in a mount, and a branch starts with a
/// copy of that data.
@Suite("Language runtimes")
struct RuntimeTests {
    /// Every sample answers `<runtime>:<contents of data/msg>`; the deploy hook writes the message once, on the
    /// first deploy, so a branch shows the parent's copy.
    static func appYAML(_ type: String, build: String, start: String, flavor: String = "none") -> String {
        """
        name: app
        type: "\(type)"
        build:
          flavor: \(flavor)
        mounts:
          data:
            source: local
            source_path: data
        hooks:
          build: |
        \(build.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
          deploy: |
            test -s data/msg || echo "made-on-$PLATFORM_BRANCH" > data/msg
        web:
          commands:
            start: \(start)
        """
    }

    static let routes = "\"http://{default}/\":\n  type: upstream\n  upstream: \"app:http\"\n"

    /// Pushes `files` (plus `extra` written as raw bytes), checks the page and a branch's copy of the data.
    func deploys(_ files: [String: String], extra: [String: Data] = [:], expect prefix: String) async throws {
        let s = try await TestServer.start(.sqlite)
        defer { s.stopNow() }
        let (_, pid, tree) = try await GitPushTests().project(s)
        defer { tree.remove() }
        for (path, bytes) in extra {
            let full = tree.dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: full))
        }
        try tree.commit(files.merging([".platform/routes.yaml": Self.routes]) { a, _ in a })
        var (st, out) = try tree.push(["HEAD:refs/heads/main"])
        #expect(st == 0, "\(out)")
        var page = (0, "")
        try await waitFor(timeout: 60) {
            page = try s.fetch(pid)
            return page.0 == 200
        }
        #expect(page.0 == 200 && page.1 == "\(prefix):made-on-main", "\(page) \(out)")

        (st, out) = try tree.push(["-o", "environment.status=active", "HEAD:refs/heads/feature"])
        #expect(st == 0, "\(out)")
        let branch = try s.fetch(pid, environment: "feature")
        #expect(branch.0 == 200 && branch.1 == "\(prefix):made-on-main", "the branch starts with the parent's data: \(branch)")
    }

    @Test("rust: cargo builds offline, the binary serves")
    func rust() async throws {
        try await deploys([
            ".platform.app.yaml": Self.appYAML("rust:1", build: "cargo build --release --offline", start: "./target/release/hello"),
            "Cargo.toml": "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
            "src/main.rs": """
            use std::io::{BufRead, BufReader, Write};
            use std::net::TcpListener;
            fn main() {
                let port = std::env::var("PORT").expect("PORT");
                let listener = TcpListener::bind(format!("127.0.0.1:{}", port)).expect("bind");
                for conn in listener.incoming() {
                    let mut conn = match conn { Ok(c) => c, Err(_) => continue };
                    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                    let mut line = String::new();
                    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) { line.clear(); }
                    let msg = std::fs::read_to_string("data/msg").unwrap_or_default();
                    let body = format!("rust:{}", msg.trim());
                    let _ = write!(conn, "HTTP/1.1 200 OK\\r\\nContent-Length: {}\\r\\nConnection: close\\r\\n\\r\\n{}", body.len(), body);
                }
            }
            """,
        ], expect: "rust")
    }

    @Test("golang: go build with a vendored module")
    func golang() async throws {
        try await deploys([
            ".platform.app.yaml": Self.appYAML("golang:1.22", build: "go build -mod=vendor -o hello .", start: "./hello"),
            "go.mod": "module example.com/hello\n\ngo 1.19\n\nrequire example.com/greet v1.0.0\n",
            "vendor/modules.txt": "# example.com/greet v1.0.0\n## explicit\nexample.com/greet\n",
            "vendor/example.com/greet/greet.go": "package greet\n\nfunc Name() string { return \"golang\" }\n",
            "main.go": """
            package main

            import (
                "fmt"
                "net/http"
                "os"
                "strings"

                "example.com/greet"
            )

            func main() {
                http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
                    msg, _ := os.ReadFile("data/msg")
                    fmt.Fprintf(w, "%s:%s", greet.Name(), strings.TrimSpace(string(msg)))
                })
                http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
            }
            """,
        ], expect: "golang")
    }

    @Test("java: a jar built by javac in the build hook")
    func java() async throws {
        try await deploys([
            ".platform.app.yaml": Self.appYAML("java:17", build: "mkdir -p classes\njavac -d classes Main.java\njar cfe app.jar Main -C classes .",
                                               start: "java -Xmx128m -jar app.jar"),
            "Main.java": """
            import com.sun.net.httpserver.HttpServer;
            import java.net.InetSocketAddress;
            import java.nio.file.Files;
            import java.nio.file.Path;

            public class Main {
                public static void main(String[] args) throws Exception {
                    int port = Integer.parseInt(System.getenv("PORT"));
                    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
                    server.createContext("/", ex -> {
                        String msg = "";
                        try { msg = Files.readString(Path.of("data/msg")).trim(); } catch (Exception e) { }
                        byte[] body = ("java:" + msg).getBytes();
                        ex.sendResponseHeaders(200, body.length);
                        ex.getResponseBody().write(body);
                        ex.close();
                    });
                    server.start();
                }
            }
            """,
        ], expect: "java")
    }

    @Test("nodejs: vendored node_modules, no registry")
    func nodejs() async throws {
        try await deploys([
            ".platform.app.yaml": Self.appYAML("nodejs:20", build: "node -e \"require('greet')\"", start: "node server.js"),
            "package.json": "{\"name\": \"hello\", \"version\": \"1.0.0\", \"dependencies\": {\"greet\": \"1.0.0\"}}\n",
            "node_modules/greet/package.json": "{\"name\": \"greet\", \"version\": \"1.0.0\", \"main\": \"index.js\"}\n",
            "node_modules/greet/index.js": "module.exports = () => 'nodejs';\n",
            "server.js": """
            const http = require('http'), fs = require('fs'), greet = require('greet');
            http.createServer((req, res) => {
              let msg = '';
              try { msg = fs.readFileSync('data/msg', 'utf8').trim(); } catch (e) {}
              res.end(greet() + ':' + msg);
            }).listen(Number(process.env.PORT), '127.0.0.1');
            """,
        ], expect: "nodejs")
    }

    @Test("ruby: a vendored gem installed by bundler from vendor/cache")
    func ruby() async throws {
        // The gem is built here, as a project would have vendored it (`bundle cache`).
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("grove-gem-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/lib", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try "module Greet\n  def self.name = 'ruby'\nend\n".write(toFile: work + "/lib/greet.rb", atomically: true, encoding: .utf8)
        try """
        Gem::Specification.new do |s|
          s.name = 'greet'; s.version = '1.0.0'; s.summary = 'greet'; s.authors = ['grove']; s.files = ['lib/greet.rb']
        end
        """.write(toFile: work + "/greet.gemspec", atomically: true, encoding: .utf8)
        let (st, out) = try Spawn.run("/bin/sh", ["-c", "cd '\(work)' && gem build greet.gemspec"])
        #expect(st == 0, "\(out)")
        let gem = try Data(contentsOf: URL(fileURLWithPath: work + "/greet-1.0.0.gem"))
        try await deploys([
            ".platform.app.yaml": Self.appYAML("ruby:3.1", build: "bundle install --local", start: "bundle exec ruby server.rb"),
            "Gemfile": "source 'https://rubygems.org'\ngem 'greet', '1.0.0'\n",
            "server.rb": """
            require 'socket'
            require 'greet'
            server = TCPServer.new('127.0.0.1', Integer(ENV.fetch('PORT')))
            loop do
              c = server.accept
              while (line = c.gets) && line != "\\r\\n"; end
              msg = File.exist?('data/msg') ? File.read('data/msg').strip : ''
              body = "#{Greet.name}:#{msg}"
              c.write "HTTP/1.1 200 OK\\r\\nContent-Length: #{body.bytesize}\\r\\nConnection: close\\r\\n\\r\\n#{body}"
              c.close
            end
            """,
        ], extra: ["vendor/cache/greet-1.0.0.gem": gem], expect: "ruby")
    }

    @Test("elixir: a mix release")
    func elixir() async throws {
        try await deploys([
            ".platform.app.yaml": Self.appYAML("elixir:1.14", build: "MIX_ENV=prod mix release --overwrite",
                                               start: "RELEASE_DISTRIBUTION=none _build/prod/rel/hello/bin/hello start"),
            "mix.exs": """
            defmodule Hello.MixProject do
              use Mix.Project
              def project, do: [app: :hello, version: "0.1.0", elixir: "~> 1.14", deps: []]
              def application, do: [mod: {Hello, []}, extra_applications: [:logger]]
            end
            """,
            "lib/hello.ex": """
            defmodule Hello do
              use Application

              def start(_type, _args) do
                port = String.to_integer(System.fetch_env!("PORT"))
                {:ok, listener} = :gen_tcp.listen(port, [:binary, packet: :line, active: false, reuseaddr: true, ip: {127, 0, 0, 1}])
                {:ok, spawn_link(fn -> serve(listener) end)}
              end

              defp serve(listener) do
                {:ok, conn} = :gen_tcp.accept(listener)
                drain(conn)
                msg = case File.read("data/msg") do
                  {:ok, text} -> String.trim(text)
                  _ -> ""
                end
                body = "elixir:" <> msg
                :gen_tcp.send(conn, "HTTP/1.1 200 OK\\r\\nContent-Length: #{byte_size(body)}\\r\\nConnection: close\\r\\n\\r\\n" <> body)
                :gen_tcp.close(conn)
                serve(listener)
              end

              defp drain(conn) do
                case :gen_tcp.recv(conn, 0, 5000) do
                  {:ok, "\\r\\n"} -> :ok
                  {:ok, _} -> drain(conn)
                  _ -> :ok
                end
              end
            end
            """,
        ], expect: "elixir")
    }

    @Test("lisp: SBCL serves a script")
    func lisp() async throws {
        try await deploys([
            ".platform.app.yaml": Self.appYAML("lisp:2.1", build: "sbcl --non-interactive --eval '(compile-file \"server.lisp\")'",
                                               start: "sbcl --script server.fasl"),
            "server.lisp": """
            (eval-when (:compile-toplevel :load-toplevel :execute) (require :sb-bsd-sockets))
            (defun message ()
              (let ((text (ignore-errors (with-open-file (f "data/msg") (read-line f nil "")))))
                (string-trim '(#\\Space #\\Newline #\\Return) (or text ""))))
            (let ((server (make-instance 'sb-bsd-sockets:inet-socket :type :stream :protocol :tcp))
                  (crlf (format nil "~c~c" #\\Return #\\Newline)))
              (setf (sb-bsd-sockets:sockopt-reuse-address server) t)
              (sb-bsd-sockets:socket-bind server #(127 0 0 1) (parse-integer (sb-ext:posix-getenv "PORT")))
              (sb-bsd-sockets:socket-listen server 16)
              (loop
                (let* ((conn (sb-bsd-sockets:socket-accept server))
                       (stream (sb-bsd-sockets:socket-make-stream conn :input t :output t :external-format :latin-1 :buffering :full)))
                  (loop for line = (read-line stream nil "")
                        until (<= (length (string-trim '(#\\Return) line)) 0))
                  (let ((body (format nil "lisp:~a" (message))))
                    (format stream "HTTP/1.1 200 OK~aContent-Length: ~d~aConnection: close~a~a~a" crlf (length body) crlf crlf crlf body))
                  (finish-output stream)
                  (sb-bsd-sockets:socket-close conn))))
            """,
        ], expect: "lisp")
    }
}
