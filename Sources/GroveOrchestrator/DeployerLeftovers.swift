import Foundation
import GroveStore

extension Deployer {
    /// Removes what an interrupted process left half-made, before anything is restored or requeued: builds that never
    /// finished (no `.grove-ready`), source-operation checkouts, backups whose copy has no record (the record is
    /// written only after the copy completed), and volume clones cut short. Interrupted activities then run again from a clean slate.
    public func removeLeftovers() async {
        let fm = FileManager.default
        var removed: [String] = []
        for key in (try? fm.contentsOfDirectory(atPath: builder.root)) ?? [] {
            let dir = (builder.root as NSString).appendingPathComponent(key)
            if !fm.fileExists(atPath: dir + "/.grove-ready"), (try? fm.removeItem(atPath: dir)) != nil { removed.append("build \(key.prefix(12))") }
        }
        let scratch = (options.dataDir as NSString).appendingPathComponent("tmp")
        if fm.fileExists(atPath: scratch), (try? fm.removeItem(atPath: scratch)) != nil { removed.append("scratch checkouts") }
        let backupsDir = (options.dataDir as NSString).appendingPathComponent("backups")
        var onDisk: [(project: String, id: String)] = []
        for project in (try? fm.contentsOfDirectory(atPath: backupsDir)) ?? [] {
            for id in (try? fm.contentsOfDirectory(atPath: backupsDir + "/" + project)) ?? [] { onDisk.append((project, id)) }
        }
        if let volumes = services?.volumes {
            let root = volumes.path("_backups")
            for project in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
                for id in (try? fm.contentsOfDirectory(atPath: root + "/" + project)) ?? [] where !onDisk.contains(where: { $0 == (project, id) }) {
                    onDisk.append((project, id))
                }
            }
        }
        for (project, id) in onDisk {
            // Only a backup the store positively does not know is removed; a store error keeps the data.
            do { if try await store.backup(projectId: project, id: id) != nil { continue } } catch { continue }
            await deleteBackup(projectId: project, backupId: id)
            removed.append("backup \(project)/\(id)")
        }
        for id in await services?.volumes.removePartialClones() ?? [] { removed.append("partial clone \(id)") }
        if !removed.isEmpty { logger.notice("removed what an interrupted run left: \(removed.joined(separator: ", "))") }
    }
}
