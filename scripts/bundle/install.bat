@echo off
rem xl_duban offline installer for Windows. UTF-8 text, run under code page 65001 (set below).
set "_OLDCP="
for /f "tokens=2 delims=:." %%a in ('chcp') do set "_OLDCP=%%a"
chcp 65001 >nul
setlocal EnableExtensions EnableDelayedExpansion
rem 双击运行（cmd /c）时，结束前暂停，以便看清提示；设环境变量 DUBAN_NO_PAUSE=1 可不暂停。
set "_PAUSE="
set "_CMDLINE=!cmdcmdline!"
if /i not "!_CMDLINE:/c=!"=="!_CMDLINE!" set "_PAUSE=1"
if defined DUBAN_NO_PAUSE set "_PAUSE="
setlocal DisableDelayedExpansion

rem xl_duban 离线安装（Windows）：只从本文件夹的 wheels 安装，不连接任何软件源。
rem   install.bat                       在本文件夹下新建（或沿用）虚拟环境 venv 并安装
rem   install.bat 目录                  在指定目录新建（或沿用）虚拟环境并安装
rem   install.bat --python python.exe   不新建虚拟环境，安装到指定的 Python
rem 新建虚拟环境用的 Python：环境变量 PYTHON 指定的 python.exe；否则 py 启动器中的适用版本；否则 PATH 中的 python。

set "HERE=%~dp0"
set "WHEELS=%HERE%wheels"
set "VERSIONS=@WINDOWS_PYTHONS@"
set "CHECK=import sys, struct; v='{}.{}'.format(*sys.version_info); sys.exit(0 if v in '%VERSIONS%'.split() and struct.calcsize('P') == 8 else 1)"
set "RC=0"
set "VENV="
set "PYEXE="
set "BASEPY="

if "%VERSIONS%"=="" goto no_windows
if "%~1"=="" goto default_venv
if /i "%~1"=="-h" goto usage
if /i "%~1"=="--help" goto usage
if /i "%~1"=="--python" goto given_python
set "VENV=%~f1"
goto check_wheels

:default_venv
set "VENV=%HERE%venv"
goto check_wheels

:given_python
if "%~2"=="" goto usage_error
set "PYEXE=%~2"

:check_wheels
if exist "%WHEELS%\" goto wheels_ok
echo 错误：找不到软件包文件夹“%WHEELS%”。请把整个安装包文件夹完整复制过来再运行。
goto fail

:wheels_ok
if not defined VENV goto check_python
if exist "%VENV%\Scripts\python.exe" goto reuse_venv
call :find_base
if not defined BASEPY goto no_python
echo 正在用 %BASEPY% 新建虚拟环境：%VENV%
%BASEPY% -m venv "%VENV%"
if errorlevel 1 goto venv_failed
goto venv_ready

:reuse_venv
echo 沿用已有的虚拟环境：%VENV%

:venv_ready
set "PYEXE=%VENV%\Scripts\python.exe"

:check_python
"%PYEXE%" -c "%CHECK%" >nul 2>&1
if errorlevel 1 goto bad_python

rem 只用本安装包：不读本机的 pip 配置文件，不用其中或环境变量里的其他软件包来源和版本约束。
set "PIP_CONFIG_FILE=nul"
set "PIP_FIND_LINKS="
set "PIP_EXTRA_INDEX_URL="
set "PIP_CONSTRAINT="
set "PIP_REQUIREMENT="
set "PIP_TARGET="
set "PIP_PREFIX="
set "PIP_ROOT="
set "PIP_USER="
echo 正在从 %WHEELS% 安装 xl_duban（离线，不连接网络）……
"%PYEXE%" -m pip install --disable-pip-version-check --upgrade --no-index --find-links "%WHEELS%" xl_duban
if errorlevel 1 goto pip_failed
rem 同一版本号的新安装包也要换上新的 xl_duban（依赖已装好，不再重装）
"%PYEXE%" -m pip install --disable-pip-version-check --quiet --force-reinstall --no-deps --no-index --find-links "%WHEELS%" xl_duban
if errorlevel 1 goto pip_failed
"%PYEXE%" -c "import xl_duban.cli"
if errorlevel 1 goto import_failed

echo.
echo 安装完成。查看帮助（在命令提示符中执行，可在任意文件夹）：
"%PYEXE%" -c "import os, sysconfig; print('    ' + chr(34) + os.path.join(sysconfig.get_path('scripts'), 'duban.exe') + chr(34) + ' --help')"
echo 在 Excel 中使用：安装 xlwings 加载项（执行下面一行），并把“xlwings”选项卡中的 Interpreter 设为
echo     %PYEXE%
"%PYEXE%" -c "import os, sysconfig; print('    ' + chr(34) + os.path.join(sysconfig.get_path('scripts'), 'xlwings.exe') + chr(34) + ' addin install')"
goto end

:find_base
if defined PYTHON set "BASEPY="%PYTHON%""
if defined BASEPY goto :eof
for %%V in (%VERSIONS%) do if not defined BASEPY (py -%%V -c "%CHECK%" >nul 2>&1 && set "BASEPY=py -%%V")
if defined BASEPY goto :eof
python -c "%CHECK%" >nul 2>&1 && set "BASEPY=python"
goto :eof

:usage
echo 用法：
echo   install.bat                       在本文件夹下新建（或沿用）虚拟环境 venv 并安装
echo   install.bat 目录                  在指定目录新建（或沿用）虚拟环境并安装
echo   install.bat --python python.exe   不新建虚拟环境，安装到指定的 Python
echo 适用的 Python：64 位 %VERSIONS%
goto end

:usage_error
echo 错误：--python 后面须写 python.exe 的路径。
set "RC=2"
goto end

:no_python
echo 错误：找不到可用的 Python（本安装包适用于 64 位 Python %VERSIONS%）。
echo 请先安装 Python（安装时勾选“Add python.exe to PATH”），或用环境变量 PYTHON 指定 python.exe 的完整路径，
echo 或运行：install.bat --python "python.exe 的完整路径"
goto fail

:no_windows
echo 错误：本安装包只含 Linux 软件包。请在有互联网的电脑上执行 bash scripts/bundle.sh 生成含 Windows 软件包的安装包。
goto fail

:venv_failed
echo 错误：新建虚拟环境“%VENV%”失败，请查看上面的提示。
goto fail

:bad_python
echo 错误：“%PYEXE%”无法运行或不适用：本安装包只含 64 位 Python %VERSIONS% 的软件包。该 Python 为：
"%PYEXE%" -c "import sys, platform; print(sys.version, platform.architecture()[0])"
goto fail

:pip_failed
echo 错误：安装失败，请查看上面的提示。
goto fail

:import_failed
echo 错误：xl_duban 已安装但无法导入，请查看上面的提示。
goto fail

:fail
set "RC=1"

:end
if defined _PAUSE pause
if defined _OLDCP chcp %_OLDCP% >nul
endlocal & endlocal & exit /b %RC%
