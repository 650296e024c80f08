"""After the deployment: attendance and hours served, the sergeant's feedback, the volunteer's debrief."""
