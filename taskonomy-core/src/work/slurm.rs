//! The Slurm executor: the workers as one job array (`sbatch --array`), and the closing steps as a job
//! that starts when the array has ended (`--dependency=afterany`).
//!
//! The closing job runs a worker too: it finishes any unit a cancelled or failed array task left (once
//! that task's claim is over), then closes the run. It waits for the array to *end*, not to succeed
//! (`afterok`): a cancelled array task never succeeds, and with `afterok` the run it belongs to would
//! then never close, although the other tasks took its unit over.
//!
//! Slurm is the scheduler; this module only builds `sbatch` command lines (plain functions, tested) and
//! runs `sbatch` and `squeue`.

use std::path::Path;
use std::process::Command;

use super::WorkError;

/// What is passed to `sbatch` for every job of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlurmOptions {
    /// Array tasks, each one worker.
    pub workers: usize,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time`, per job.
    pub time: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--gres`, e.g. `gpu:1`.
    pub gres: Option<String>,
    /// Any other `sbatch` options, as given (`--mem=8G`, `--qos=short`).
    pub extra: Vec<String>,
}

impl SlurmOptions {
    /// The options every job of the run gets.
    fn common(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (flag, value) in [
            ("--partition", &self.partition),
            ("--time", &self.time),
            ("--account", &self.account),
            ("--gres", &self.gres),
        ] {
            if let Some(value) = value {
                args.push(format!("{flag}={value}"));
            }
        }
        args.extend(self.extra.iter().cloned());
        args
    }

    /// The `sbatch` arguments of the job array: `workers` tasks, each running `command`, logging to
    /// `logs`.
    pub fn workers_job(&self, name: &str, logs: &Path, command: &[String]) -> Vec<String> {
        let mut args = vec![
            "--parsable".to_owned(),
            format!("--job-name={name}-workers"),
            format!("--array=0-{}", self.workers.max(1) - 1),
            format!("--output={}", logs.join("slurm-%A_%a.log").display()),
        ];
        args.extend(self.common());
        args.push(format!("--wrap={}", shell_command(command)));
        args
    }

    /// The `sbatch` arguments of the closing job, which starts once the job `after` has ended.
    pub fn close_job(
        &self,
        name: &str,
        logs: &Path,
        after: &str,
        command: &[String],
    ) -> Vec<String> {
        let mut args = vec![
            "--parsable".to_owned(),
            format!("--job-name={name}-close"),
            format!("--dependency=afterany:{after}"),
            format!("--output={}", logs.join("slurm-%j-close.log").display()),
        ];
        args.extend(self.common());
        args.push(format!("--wrap={}", shell_command(command)));
        args
    }
}

/// The `sbatch` options in a file: one per line, as on the command line (`--mem=8G`) or as in a job
/// script (`#SBATCH --mem=8G`); blank lines and other `#` comments are skipped.
pub fn read_options_file(path: &Path) -> Result<Vec<String>, WorkError> {
    let text = std::fs::read_to_string(path).map_err(crate::store::io_error(path))?;
    let mut options = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        let option = match line.strip_prefix("#SBATCH") {
            Some(option) => option.trim(),
            None if line.is_empty() || line.starts_with('#') => continue,
            None => line,
        };
        if !option.starts_with('-') {
            return Err(WorkError::Scheduler(format!(
                "{}:{}: expected an sbatch option such as `--mem=8G` or `#SBATCH --mem=8G`, found \
                 `{line}`",
                path.display(),
                number + 1
            )));
        }
        options.extend(option.split_whitespace().map(str::to_owned));
    }
    Ok(options)
}

/// `command` as one line for `sh`, every word single-quoted.
pub fn shell_command(command: &[String]) -> String {
    command
        .iter()
        .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Submits a job with `sbatch args…`; returns its id (`--parsable` prints `id` or `id;cluster`).
pub fn submit(args: &[String]) -> Result<String, WorkError> {
    let output = Command::new("sbatch").args(args).output().map_err(|e| {
        WorkError::Scheduler(format!(
            "cannot run sbatch ({e}): is Slurm installed and on the PATH?"
        ))
    })?;
    if !output.status.success() {
        return Err(WorkError::Scheduler(format!(
            "sbatch refused the job ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    let id = printed.trim().split(';').next().unwrap_or("").to_owned();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(WorkError::Scheduler(format!(
            "sbatch printed `{}`, not a job id",
            printed.trim()
        )));
    }
    Ok(id)
}

/// The jobs of `job` (an array's tasks, or one job) still known to Slurm, with their states
/// (`PENDING`, `RUNNING`, …); empty once they have all ended.
pub fn queued(job: &str) -> Result<Vec<(String, String)>, WorkError> {
    let output = Command::new("squeue")
        .args(["-h", "-r", "-j", job, "-o", "%i %T"])
        .output()
        .map_err(|e| WorkError::Scheduler(format!("cannot run squeue ({e})")))?;
    // squeue fails for a job id it no longer knows: the job has ended.
    if !output.status.success() {
        return Ok(Vec::new());
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (id, state) = line.trim().split_once(' ')?;
            Some((id.to_owned(), state.to_owned()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> SlurmOptions {
        SlurmOptions {
            workers: 4,
            partition: Some("gpu".into()),
            time: Some("02:00:00".into()),
            account: None,
            gres: Some("gpu:1".into()),
            extra: vec!["--mem=16G".into()],
        }
    }

    #[test]
    fn the_workers_are_one_array_with_every_option_passed_through() {
        let command = ["/opt/bin/taskonomy", "worker", "--out", "/shared/run 1"].map(String::from);
        let args =
            options().workers_job("taskonomy", Path::new("/shared/run 1/work/logs"), &command);
        assert_eq!(
            args,
            [
                "--parsable",
                "--job-name=taskonomy-workers",
                "--array=0-3",
                "--output=/shared/run 1/work/logs/slurm-%A_%a.log",
                "--partition=gpu",
                "--time=02:00:00",
                "--gres=gpu:1",
                "--mem=16G",
                "--wrap='/opt/bin/taskonomy' 'worker' '--out' '/shared/run 1'",
            ]
        );
    }

    #[test]
    fn the_closing_job_waits_for_the_array_to_end() {
        let command = ["taskonomy", "worker", "--close"].map(String::from);
        let args = options().close_job("taskonomy", Path::new("logs"), "123", &command);
        assert!(args.contains(&"--dependency=afterany:123".to_owned()));
        assert!(args.contains(&"--output=logs/slurm-%j-close.log".to_owned()));
        assert_eq!(
            args.last().unwrap(),
            "--wrap='taskonomy' 'worker' '--close'"
        );
    }

    #[test]
    fn quotes_in_words_survive_the_shell() {
        assert_eq!(
            shell_command(&["it's".to_owned(), "a b".to_owned()]),
            r"'it'\''s' 'a b'"
        );
    }

    #[test]
    fn an_options_file_reads_like_a_job_script() {
        let path = std::env::temp_dir().join(format!("sbatch-options-{}", std::process::id()));
        std::fs::write(
            &path,
            "# our cluster\n#SBATCH --qos=short\n\n--mem=8G --cpus-per-task=4\n",
        )
        .unwrap();
        assert_eq!(
            read_options_file(&path).unwrap(),
            ["--qos=short", "--mem=8G", "--cpus-per-task=4"]
        );
        std::fs::write(&path, "--mem=8G\npartition=gpu\n").unwrap();
        let error = read_options_file(&path).unwrap_err().to_string();
        assert!(error.ends_with(":2: expected an sbatch option such as `--mem=8G` or `#SBATCH --mem=8G`, found `partition=gpu`"), "{error}");
        std::fs::remove_file(&path).unwrap();
    }
}
