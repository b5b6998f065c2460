import Foundation
import GroveStore

extension Deployer {
    /// Removes what an interrupted process left half-made, before anything is restored or requeued: builds that never
    /// finished, source-operation checkouts, backups whose copy has no record (the record is written only after the
    /// copy completed), and volume clones cut short. Interrupted activities then run again from a clean slate.
    public func removeLeftovers() async {
        let fm = FileManager.default
        var removed = await builds.removeUnfinished()
        let scratch = (options.dataDir as NSString).appendingPathComponent("tmp")
        if fm.fileExists(atPath: scratch), (try? fm.removeItem(atPath: scratch)) != nil { removed.append("scratch checkouts") }
        var onDisk = await volumes.snapshots()
        for s in await services?.snapshots() ?? [] where !onDisk.contains(where: { $0 == s }) { onDisk.append(s) }
        for (project, id) in onDisk {
            // Only a backup the store positively does not know is removed; a store error keeps the data.
            do { if try await store.backup(projectId: project, id: id) != nil { continue } } catch { continue }
            await deleteBackup(projectId: project, backupId: id)
            removed.append("backup \(project)/\(id)")
        }
        for id in await services?.removePartialClones() ?? [] { removed.append("partial clone \(id)") }
        if !removed.isEmpty { logger.notice("removed what an interrupted run left: \(removed.joined(separator: ", "))") }
    }
}
