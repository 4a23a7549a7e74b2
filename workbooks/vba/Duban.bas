Attribute VB_Name = "Duban"
' Callbacks of the Duban ribbon tab (workbooks/ribbon/customUI14.xml): one Sub per button.
' Each runs the Python function of that button in the `macros` package through xlwings'
' RunPython, which comes from the xlwings add-in (default template) or from the embedded
' xlwings module (standalone build). The Python side opens the calling workbook and runs
' the same service as the `duban` command line.
'
' Keep this file ASCII only: the project is stored with codepage 1252 and Chinese text
' would show garbled on non-Chinese Windows. The Chinese labels live in the ribbon XML.
Option Explicit

Public Sub DubanValidate(control As IRibbonControl)
    RunPython "import macros; macros.validate()"
End Sub

Public Sub DubanImportTasks(control As IRibbonControl)
    RunPython "import macros; macros.import_tasks()"
End Sub

Public Sub DubanIssue(control As IRibbonControl)
    RunPython "import macros; macros.issue()"
End Sub

Public Sub DubanSend(control As IRibbonControl)
    RunPython "import macros; macros.send()"
End Sub

Public Sub DubanCollect(control As IRibbonControl)
    RunPython "import macros; macros.collect()"
End Sub

Public Sub DubanConfirmTargets(control As IRibbonControl)
    RunPython "import macros; macros.confirm_targets()"
End Sub

Public Sub DubanRemind(control As IRibbonControl)
    RunPython "import macros; macros.remind()"
End Sub

Public Sub DubanLight(control As IRibbonControl)
    RunPython "import macros; macros.light()"
End Sub

Public Sub DubanQuarterlyBulletin(control As IRibbonControl)
    RunPython "import macros; macros.quarterly_bulletin()"
End Sub

Public Sub DubanMonthlyBulletin(control As IRibbonControl)
    RunPython "import macros; macros.monthly_bulletin()"
End Sub

Public Sub DubanPublish(control As IRibbonControl)
    RunPython "import macros; macros.publish()"
End Sub

Public Sub DubanLeaderBriefs(control As IRibbonControl)
    RunPython "import macros; macros.leader_briefs()"
End Sub

Public Sub DubanScore(control As IRibbonControl)
    RunPython "import macros; macros.score()"
End Sub

Public Sub DubanRollover(control As IRibbonControl)
    RunPython "import macros; macros.rollover()"
End Sub

Public Sub DubanDoctor(control As IRibbonControl)
    RunPython "import macros; macros.doctor()"
End Sub
