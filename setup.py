"""Build policy of the fastloss extensions: which modules, for which SIMD levels,
with which compiler flags. (What the kernels compute lives in the registry, the
templates and the .pxd files; generating the kernel sources is the ``generate``
command, tools/gen_kernels.py, which ``build_ext`` runs first.)

Environment switches:
  FASTLOSS_NO_OPENMP=1        build without OpenMP (single-threaded kernels).
  FASTLOSS_SANITIZE=address   AddressSanitizer build (for the memory-safety runs).
  FASTLOSS_OPENMP_PREFIX=DIR  macOS: where libomp lives (include/ and lib/).
  FASTLOSS_SIMD_LEVELS=a,b    build only these SIMD levels of the kernel modules
                              (e.g. "baseline" for a quick development build).
  FASTLOSS_DEBUG_INFO=1       keep debug information (-g); release builds drop it.

Kernel modules (KERNEL_MODULES) are compiled once per SIMD level of the target
(x86-64: baseline = x86-64-v2, avx2, avx512; elsewhere baseline only) from one source, each
cythonized into a build directory of its level (no per-level copies in src/);
fastloss._dispatch imports the best one the CPU supports.
"""

import os
import re
import runpy
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Command, Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
PKG = HERE / "src" / "fastloss"


# Compiled once per SIMD level and chosen at import by fastloss._dispatch.
# Adding a kernel module means adding its name here.
KERNEL_MODULES = ("_pointwise", "_rowwise", "_simd", "_multi")
# Compiled once, for the baseline ISA (_launch: the Python side of every level's kernels).
PLAIN_MODULES = ("_omp", "_fastpath", "_launch", "_counts", "_blas")

_dispatch = runpy.run_path(str(PKG / "_dispatch_levels.py"))

# Compiler flags per SIMD level of the kernel modules. Every level also gets
# -ffp-contract=off (see build_extensions) so that no level fuses a*b+c differently.
# The x86-64 baseline is x86-64-v2 (SSE4.2, POPCNT; _dispatch_levels.REQUIRES): under
# plain SSE2, GCC 12 cannot select between float64 lanes on a compare (no 64-bit lane
# select before SSE4.1), so every loop with a transcendental stayed scalar, 2.2-3.7x
# slower (bench/README.md). The plain modules keep the compiler's default ISA: they
# import, and _dispatch says what the CPU lacks, on any x86-64.
X86_64_V2 = ["-msse4.2", "-mpopcnt"]
SIMD_FLAGS = {
    "unix": {
        "baseline": X86_64_V2 if _dispatch["is_x86_64"]() else [],
        "avx2": ["-mavx2", "-mfma", "-mf16c", "-mbmi", "-mbmi2"],
        "avx512": ["-mavx512f", "-mavx512cd", "-mavx512vl", "-mavx512bw", "-mavx512dq",
                   "-mavx2", "-mfma", "-mf16c", "-mbmi", "-mbmi2", "-mprefer-vector-width=512"],
    },
    # (MSVC's baseline stays SSE2 code; the CPU check is the same on every x86-64.)
    "msvc": {"baseline": [], "avx2": ["/arch:AVX2"], "avx512": ["/arch:AVX512"]},
}


def header_deps(name):
    """The headers module ``name`` reads: ``cdef extern from`` in its source (its
    template, for a generated one) and in the fastloss .pxd files it cimports, and
    their ``#include``s, transitively. setuptools does not know them; as
    ``depends`` they rebuild the module when one changes (Cython sees only .pxd)."""
    src = PKG / f"{name}.pyx.tp"
    todo, seen, headers = [src if src.exists() else PKG / f"{name}.pyx"], set(), set()
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        text = path.read_text()
        for mod in re.findall(r"^\s*from fastloss\.(\w+) cimport", text, re.M):
            todo.append(PKG / f"{mod}.pxd")
        for h in re.findall(r'^\s*(?:cdef extern from|#include) "(\w+\.h)"', text, re.M):
            headers.add(h)
            todo.append(PKG / h)
    return sorted(f"src/fastloss/{h}" for h in headers)


def kernel_extensions():
    levels = _dispatch["build_levels"]()
    wanted = os.environ.get("FASTLOSS_SIMD_LEVELS", "").strip()
    if wanted:
        levels = [lv for lv in levels if lv in wanted.split(",")] or ["baseline"]
    # The same .pyx under each level's module name; BuildExt cythonizes each level
    # into a directory of its own.
    return [Extension(f"fastloss.{_dispatch['module_name'](name, level)}", [f"src/fastloss/{name}.pyx"],
                      include_dirs=["src/fastloss"], depends=header_deps(name))
            for name in KERNEL_MODULES for level in levels]


# GCC only: the loss math inlined from _vmath.h makes the <name>_lg functions
# large, and with several call sites per kernel (grad / no grad, per-column
# vectors, the chunk's tail) GCC's default inlining and loop unswitching limits
# then leave calls (and branches on loop-invariant loss parameters) in the
# loops, which stops vectorisation (seen with -fopt-info-vec: "not vectorized:
# dr in a call", "control flow in loop").
GCC_VECTORISE_PARAMS = [
    "--param=max-inline-insns-single=2000", "--param=inline-unit-growth=2000",
    "--param=large-function-growth=20000", "--param=large-stack-frame-growth=10000",
    "--param=max-unswitch-insns=5000",
]


def _is_gcc(compiler):
    import subprocess

    try:
        cc = compiler.compiler_so[0]
        out = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout
    except Exception:
        return False
    return "Free Software Foundation" in out and "clang" not in out.lower()


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


class Generate(Command):
    """Generate the kernel sources (tools/gen_kernels.py: templates + registry)."""

    description = "generate the kernel .pyx files from their templates and the registry"
    user_options = []

    def initialize_options(self):
        pass

    def finalize_options(self):
        pass

    def run(self):
        gen = runpy.run_path(str(HERE / "tools" / "gen_kernels.py"))
        for name in gen["generate"](PKG):
            print(f"generated src/fastloss/{name}")


class BuildExt(build_ext):
    """Generates and cythonizes the sources, then compiles them with the OpenMP,
    SIMD and optimisation flags that fit the compiler actually used."""

    def finalize_options(self):
        super().finalize_options()
        # One compiler per core: each kernel module is built once per SIMD level.
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def run(self):
        self.run_command("generate")
        super().run()

    def _cythonize(self):
        # One cythonize per SIMD level, each into a directory of its own: the C of
        # _pointwise_avx2 and of _pointwise differ only in the module name.
        for level in dict.fromkeys(_dispatch["level_of"](e.name) for e in self.extensions):
            exts = [e for e in self.extensions if _dispatch["level_of"](e.name) == level]
            # emit_code_comments: no .pyx lines copied into C comments (_pointwise.c
            # 2.1 -> 0.9 MB; the compiled code is the same).
            done = cythonize(exts, compiler_directives={"language_level": 3, "emit_code_comments": False},
                             include_path=["src"],
                             build_dir=os.path.join(self.build_temp, "cython", level),
                             nthreads=self.parallel if isinstance(self.parallel, int) else 1)
            # setuptools has already annotated its own Extension objects: keep them.
            c_sources = {e.name: e.sources for e in done}
            for ext in exts:
                ext.sources = c_sources[ext.name]

    def _openmp_flags(self):
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            return ["/openmp"], []
        if sys.platform == "darwin":
            prefix = os.environ.get("FASTLOSS_OPENMP_PREFIX") or _brew_libomp()
            cflags, lflags = ["-Xpreprocessor", "-fopenmp"], ["-lomp"]
            if prefix:
                cflags.append(f"-I{prefix}/include")
                lflags += [f"-L{prefix}/lib", f"-Wl,-rpath,{prefix}/lib"]
            return cflags, lflags
        return ["-fopenmp"], ["-fopenmp"]

    def _compiles(self, cflags, lflags):
        """Whether a program using omp.h compiles and links with these flags."""
        src = textwrap.dedent("""\
            #include <omp.h>
            int main(void) { int n = 0;
            #pragma omp parallel reduction(+:n)
            n += 1;
            return omp_get_max_threads() > 0 && n > 0 ? 0 : 1; }
        """)
        tmp = tempfile.mkdtemp()
        try:
            path = os.path.join(tmp, "probe.c")
            with open(path, "w") as f:
                f.write(src)
            objs = self.compiler.compile([path], output_dir=tmp, extra_postargs=cflags)
            self.compiler.link_executable(objs, "probe", output_dir=tmp, extra_postargs=lflags)
            return True
        except Exception:
            return False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def build_extensions(self):
        self._cythonize()
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            cflags, lflags = ["/O2"], []
        else:
            # Nothing reads errno or the FP exception flags, so libm calls need not
            # set errno and selects may evaluate both arms: this lets GCC/clang
            # if-convert and vectorise the loops. (No -ffast-math: NaN and inf
            # must keep their IEEE meaning.)
            cflags, lflags = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"], []
            # Python's own CFLAGS carry -g: the wheel a user downloads has no use
            # for the debug information of three SIMD levels (37 MB with it).
            if not _env_flag("FASTLOSS_DEBUG_INFO"):
                cflags.append("-g0")
            if _is_gcc(self.compiler):
                # -fopenmp-simd: the `omp simd` loops of _rowreduce.h vectorise
                # in a FASTLOSS_NO_OPENMP build too.
                cflags += GCC_VECTORISE_PARAMS + ["-fopenmp-simd"]
        if _env_flag("FASTLOSS_NO_OPENMP"):
            self.warn("FASTLOSS_NO_OPENMP is set: building single-threaded kernels.")
        else:
            ocflags, olflags = self._openmp_flags()
            if self._compiles(ocflags, olflags):
                cflags += ocflags
                lflags += olflags
            else:
                self.warn(
                    "fastloss: no working OpenMP found for this compiler; building "
                    "single-threaded kernels (fastloss.show_config() will say so)."
                )
        if os.environ.get("FASTLOSS_SANITIZE") == "address":
            san = ["-fsanitize=address", "-fno-omit-frame-pointer"]
            # -O1 -g1 (after -O3 -g0: the last one counts), a quarter of -O3 -g's
            # compile time; why it checks the same accesses: docs/reliability.md.
            cflags += san + ["-O1", "-g1"]
            lflags += san
        simd = SIMD_FLAGS["msvc" if ctype == "msvc" else "unix"]
        for ext in self.extensions:
            level = _dispatch["level_of"](ext.name)  # (cythonize drops extra attributes)
            kernel = ext.name.split(".")[-1].removesuffix(f"_{level}") in KERNEL_MODULES
            ext.extra_compile_args = cflags + (simd[level] if kernel else []) + list(ext.extra_compile_args)
            ext.extra_link_args = lflags + list(ext.extra_link_args)
        super().build_extensions()


def _brew_libomp():
    for prefix in ("/opt/homebrew/opt/libomp", "/usr/local/opt/libomp"):
        if os.path.isdir(prefix):
            return prefix
    return None


extensions = [
    # (_fastpath and _launch read ndarray structs: NumPy's headers, a build requirement.)
    Extension(f"fastloss.{name}", [f"src/fastloss/{name}.pyx"],
              include_dirs=["src/fastloss", numpy.get_include()],
              define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
              depends=header_deps(name))
    for name in PLAIN_MODULES
] + kernel_extensions()

setup(ext_modules=extensions, cmdclass={"generate": Generate, "build_ext": BuildExt})
